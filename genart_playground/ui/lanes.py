"""Queue lanes: each a queue of its own (Gradio's concurrency_id), with its own slots, positions and
estimates, so a 2-second GAN walk never waits behind an 11-minute style transfer.

"gpu" holds the runs that take seconds to minutes (diffusion, style transfer, the evaluation lab); the
GAN and the autoencoders are one pass of a network each.
"""

LONG_LANE = "gpu"
GAN_LANE = "gan"
AUTOENCODER_LANE = "autoencoder"
MODEL_LANES = (LONG_LANE, GAN_LANE, AUTOENCODER_LANE)  # a public visitor's jobs are counted across all three
