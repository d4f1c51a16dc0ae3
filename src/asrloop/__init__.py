"""asrloop: a speech-recognition project that closes the machine-learning loop."""
