"""Build time: load the programme documents, clean, chunk, embed and store them as a FAISS index."""
