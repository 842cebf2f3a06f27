// admin API (being written)
