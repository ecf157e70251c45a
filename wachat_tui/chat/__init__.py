"""Chat on llama.cpp: play any participant, swap, simulate.

``session.Conversation`` is what the front ends show; ``engine.ChatEngine`` runs the GGUF that
``models.find_chat_model`` picks; ``prompt``, ``reply_filter`` and ``kv_cache`` are the engine's
parts; ``store`` keeps the history; ``simulate`` lets the model play both sides.
"""
