"""Flat training scripts, one per built-in model: `python -m genart_playground.train t2i|gan|vae ...`."""
