"""Development-only tooling: the embedded AWS emulator and the local runtime. Never shipped."""
