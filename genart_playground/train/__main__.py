"""`python -m genart_playground.train NAME [options]`; also unchanged under `accelerate launch -m`.

The names are the training scripts the families declare (`Family.trainers`): t2i, gan, vae, ...
"""

import importlib
import sys

from .. import families


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    scripts = families.trainers()
    if not argv or argv[0] not in scripts:
        raise SystemExit(f"usage: python -m genart_playground.train {{{'|'.join(scripts)}}} [options]")
    # Imported lazily: each script pulls in only what its own model needs.
    importlib.import_module(scripts[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    main()
