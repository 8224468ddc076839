"""The two ways between the shapes world's sketches and its pictures: the names a translator's generators
are saved under, its `direction` argument and the tab's choices. The network, the training scripts, the
family's declaration and the tab all read them here, so none of them imports another for a name."""

SKETCH_TO_PICTURE, PICTURE_TO_SKETCH = "sketch_to_picture", "picture_to_sketch"
DIRECTIONS = (SKETCH_TO_PICTURE, PICTURE_TO_SKETCH)
