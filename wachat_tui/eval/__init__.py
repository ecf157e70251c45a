"""Persona fidelity: does the model text like the person it plays? No UI in here.

* :mod:`.cases` — held-out cases and real train turns (one adapter from ``pairs.jsonl``)
* :mod:`.attribution` — whose reply is it? character n-gram classifier → fidelity
* :mod:`.style` — style distance, habit by habit, each in [0, 1]
* :mod:`.memorisation` — copies of training turns, leaked phone numbers / e-mails / URLs
* :mod:`.degeneration` — distinct-2 / EAD-2, empty, run-on, assistant-speak
* :mod:`.backends` — who writes the replies: real, GGUF via llama.cpp, HF (+ adapter)
* :mod:`.measure` — the whole measurement → :mod:`.report` (typed, ``to_json()``)
* :mod:`.estimate` — a cheap estimate during training; :mod:`.render` — the CLI's tables

Importing the package (or any module but the backends' model loading) stays light:
scikit-learn, llama.cpp and torch are imported only where they are used.
"""
