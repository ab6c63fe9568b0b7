"""The command line behind ``python -m utils.data``: ``check`` verifies every dataset file and
prints a table; ``download`` fetches a missing dataset (needs network)."""

from __future__ import annotations

import argparse

from utils.data.fetch import download
from utils.data.files import DATASETS, _how_to_fix, data_root
from utils.data.idx import check_files


def _main(argv=None) -> int:
    import utils.data  # at call time: the package imports this module while it loads

    # --help gives the first line of the package's docstring.
    parser = argparse.ArgumentParser(prog="python -m utils.data",
                                     description=utils.data.__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=None, help="data folder (default: $MLP_COURSE_DATA or <repo>/data)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", parents=[common], help="verify every dataset file and print a table")
    fetch = commands.add_parser("download", parents=[common],
                                help="download a dataset with torchvision (needs network)")
    fetch.add_argument("name", choices=[*DATASETS, "all"])
    args = parser.parse_args(argv)

    if args.command == "download":
        names = DATASETS if args.name == "all" else (args.name,)
        for name in names:
            download(name, root=args.root)
        return 0

    results = check_files(root=args.root)
    root = data_root(args.root)
    width = max(len(str(path.relative_to(root))) for path, _ in results)
    print(f"data root: {root}")
    print(f"{'file':<{width}}  status")
    for path, status in results:
        print(f"{str(path.relative_to(root)):<{width}}  {status}")
    bad = [path for path, status in results if status != "ok"]
    if bad:
        print(f"\n{len(bad)} file(s) missing or corrupt. {_how_to_fix('<name>', root, what='them')}")
    return 1 if bad else 0
