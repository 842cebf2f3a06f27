#include <gtest/gtest.h>
TEST(Harness, Placeholder) {}
