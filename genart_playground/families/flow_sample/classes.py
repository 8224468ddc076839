"""A prompt in the shapes world's words ↔ the classes a class-conditional flow was trained on.

The model's own config names its classes (`Glow.codes`: colour×shape first, then any of background,
position and size), so a flow trained on other classes reads prompts against its own lists.
"""

from dataclasses import dataclass

from ...data import shapes
from ...metrics import world

# Words a prompt may hold besides the classes' own: articles and the background phrase.
GLUE = {"a", "an", "the", "on", "background", "shape"}
# Each attribute a code after the first may hold, by the world's words for it.
VOCABULARIES = {"background": shapes.BACKGROUNDS, "position": shapes.POSITIONS, "size": shapes.SIZES}


def flow_codes() -> list[list[str]]:
    """What the built-in flow is told about a picture: the GANs' codes (colour×shape, background), then the
    position and the size, so a prompt can name all of them and only the jitter is left to z."""
    return shapes.shapes_codes() + [list(shapes.POSITIONS), list(shapes.SIZES)]


def attribute_of(names: list[str]) -> str:
    """Which attribute a code after the first holds (background, position or size), from its class names."""
    return next(key for key, vocabulary in VOCABULARIES.items() if set(names) <= set(vocabulary))


@dataclass(frozen=True)
class Request:
    combo: int  # index into codes[0] ("red circle", ...)
    fixed: dict[int, int]  # code index (1, 2, ...) -> the class the prompt names; the others come from the seed
    warnings: list[str]

    def labels(self, picks: list[list[int]]) -> list[list[int]]:
        """Each picture's labels: the prompt's classes, and its seed's `picks` (one per code after the first)."""
        return [[self.combo, *(self.fixed.get(i + 1, pick) for i, pick in enumerate(row))] for row in picks]


def named_combo(prompt: str) -> str:
    """The colour and shape a prompt names ("red circle"), checked before any model loads."""
    named = world.prompt_attributes(prompt)
    if "color" not in named or "shape" not in named:
        raise ValueError(f"Name a colour and a shape, as in \"a red circle\": colours {', '.join(shapes.COLORS)}; "
                         f"shapes {', '.join(shapes.SHAPES)}.")
    return f"{named['color']} {named['shape']}"


def read_prompt(prompt: str, codes: list[list[str]]) -> Request:
    """The classes a prompt names; ValueError when it names no colour×shape the model has."""
    named = world.prompt_attributes(prompt)
    combo = named_combo(prompt)
    if combo not in codes[0]:
        raise ValueError(f"This flow has no class \"{combo}\": it learnt {len(codes[0])} colour×shape classes, and "
                         f"{combo} was held out of its training. Try another colour or shape.")
    attributes = {attribute_of(names): i for i, names in enumerate(codes[1:], 1)}
    fixed = {attributes[key]: codes[attributes[key]].index(value) for key, value in named.items() if key in attributes}
    warnings = []
    unused = [key for key in ("size", "position", "background") if key in named and key not in attributes]
    if unused:
        warnings.append(f"this flow is not told the {' or the '.join(unused)}: it ignored "
                        f"{'them' if len(unused) > 1 else 'it'} (each picture's comes from its seed).")
    known = set(shapes.COLORS) | set(shapes.SHAPES) | set(shapes.BACKGROUNDS) | set(shapes.SIZES) | GLUE
    known |= {word for phrase in shapes.POSITION_PHRASES.values() for word in phrase.split()}
    unknown = list(dict.fromkeys(w for w in prompt.lower().replace(",", " ").split() if w.strip(".!?") not in known))
    if unknown:
        warnings.append(f"the flow does not know the word{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(repr(w) for w in unknown)}: it reads only the shapes world's words.")
    return Request(codes[0].index(combo), fixed, warnings)


def attributes(codes: list[list[str]], labels: list[int]) -> dict[str, str]:
    """The world's attributes these labels name: {"color": "red", "shape": "circle", "background": ...}."""
    color, shape = codes[0][labels[0]].split()
    return {"color": color, "shape": shape,
            **{attribute_of(names): names[label] for names, label in zip(codes[1:], labels[1:])}}


def caption(codes: list[list[str]], labels: list[int]) -> str:
    """The prompt that names these classes: "a large red circle on the left on a gray background"."""
    return world.caption(attributes(codes, labels))
