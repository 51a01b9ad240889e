"""Where the test data lives, named once for every test folder."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EXPORTS = DATA / "exports"
FIXTURES = ROOT / "tests" / "fixtures"
DEMO_DATA = ROOT / "demo_data" / "gambling_harms_5db"
