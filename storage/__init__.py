"""Tables, the engine and migrations: where the loop is kept."""
