"""Queue lanes: each a queue of its own (Gradio's concurrency_id), with its own slots, positions and
estimates, so a 2-second GAN walk never waits behind an 11-minute style transfer.

"gpu" holds the runs that take seconds to minutes (diffusion, style transfer, the evaluation lab); the
GAN and the autoencoders are one pass of a network each; the training lab's runs have a lane of their own.
"""

LONG_LANE = "gpu"
GAN_LANE = "gan"
AUTOENCODER_LANE = "autoencoder"
TRAINING_LANE = "training"  # the training lab: a Play runs until paused, and must never hold up a picture
MODEL_LANES = (LONG_LANE, GAN_LANE, AUTOENCODER_LANE, TRAINING_LANE)  # a public visitor's jobs count across all
