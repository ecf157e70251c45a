"""Chat engine on llama.cpp: play any participant, swap, simulate."""
