"""`python -m genart_playground.train t2i|gan|vae [options]`; also unchanged under `accelerate launch -m`."""

import importlib
import sys

SCRIPTS = ("t2i", "gan", "vae")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SCRIPTS:
        raise SystemExit(f"usage: python -m genart_playground.train {{{'|'.join(SCRIPTS)}}} [options]")
    # Imported lazily: each script pulls in only what its own model needs.
    script = importlib.import_module(f"genart_playground.train.{argv[0]}")
    script.main(argv[1:])


if __name__ == "__main__":
    main()
