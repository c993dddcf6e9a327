"""The Gradio web interface (the only package besides app.py that imports gradio)."""
