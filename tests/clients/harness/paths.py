"""Where things are in the repository."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT / "tests/fixtures"
# The lossless MP4 of the `frames_20` golden (tests/fixtures/README.md).
FRAMES_20_MP4 = FIXTURES / "frames_20.mp4"


def demo_package() -> Path:
    """The committed demo package (`models/demo`)."""
    return REPO_ROOT / "models/demo"
