"""Export: adapter + base → merged weights → GGUF → verified with llama.cpp."""
