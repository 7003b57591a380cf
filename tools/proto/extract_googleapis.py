"""Copy the googleapis .proto files shipped in the googleapis-common-protos wheel.

Usage: python tools/proto/extract_googleapis.py DEST

buf and protoc need google/api/*.proto, google/type/*.proto and google/rpc/*.proto
as source. They ship inside the pinned wheel, so no registry or download is needed.
"""

import shutil
import sys
from pathlib import Path

import google.api


def main() -> None:
    dest = Path(sys.argv[1])
    root = Path(google.api.__path__[0]).parent
    if dest.exists():
        shutil.rmtree(dest)
    for package in ("api", "type", "rpc", "longrunning"):
        for proto in sorted((root / package).rglob("*.proto")):
            target = dest / "google" / proto.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(proto, target)


if __name__ == "__main__":
    main()
