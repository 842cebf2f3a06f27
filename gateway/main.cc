// cpmgw: builds the application and runs it.
#include <signal.h>

#include <cstring>
#include <iostream>

#include "runtime/application.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    // ServerApplication would fork into the background on --daemon; under systemd that is wrong.
    if (std::strcmp(argv[i], "--daemon") == 0) {
      std::cerr << "cpmgw: --daemon is not supported: run it in the foreground (systemd, or a terminal)\n";
      return 78;
    }
  }
  // Signals are taken by the main loop with sigtimedwait: block them before any thread exists so every
  // thread inherits the mask. Writes to a closed socket report EPIPE instead of killing the process.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  cpmgw::GatewayApplication app;
  return app.run(argc, argv);
}
