"""Print the ``dev`` extra of setup.cfg, one requirement per line, for ``pip install -r``.

``--without NAME`` (repeatable) leaves out the requirements of that distribution: CI's
oldest-Flask run installs the dev extra without what needs a newer Flask.
"""

from __future__ import annotations

import argparse
import configparser
import re
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without", action="append", default=[], metavar="NAME")
    args = parser.parse_args()
    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parent.parent / "setup.cfg")
    without = {name.lower() for name in args.without}
    found = set()
    kept = []
    for line in config["options.extras_require"]["dev"].splitlines():
        requirement = line.strip()
        if not requirement:
            continue
        name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()
        if name in without:
            found.add(name)
            continue
        kept.append(requirement)
    missing = without - found
    if missing:
        parser.error(f"not in setup.cfg's dev extra: {', '.join(sorted(missing))}")
    print("\n".join(kept))


if __name__ == "__main__":
    main()
