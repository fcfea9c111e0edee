"""Issue 10's error model and settings, as a user meets them on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pagemaker import LETTER

from pipeline.cli.main import main
from pipeline.core.errors import ExitCode, MissingDependency


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_exit_codes_are_distinct_and_documented() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert len({int(code) for code in ExitCode}) == len(ExitCode)
    for code in ExitCode:
        assert f"| {int(code)} |" in readme, f"exit code {int(code)} ({code.name}) missing from the README table"


def test_an_unexpected_exception_is_one_line_exit_70_and_one_traceback(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture) -> None:
    import pipeline.jobs.ingest as ingest

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(ingest, "process_file", broken)
    letter = tmp_path / "kh.txt"
    letter.write_text(LETTER, encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(letter)])
    assert result.exit_code == ExitCode.INTERNAL == 70
    assert "congvan: internal error: KeyError: 'surprise' (exit 70)" in result.output
    assert result.output.count("Traceback (most recent call last)") + \
        capsys.readouterr().err.count("Traceback (most recent call last)") == 1


def test_a_congvan_error_is_its_line_and_its_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.jobs.ingest as ingest

    def missing(*_args: object, **_kwargs: object) -> None:
        raise MissingDependency("tesseract-ocr-vie is not installed")

    monkeypatch.setattr(ingest, "process_file", missing)
    letter = tmp_path / "kh.txt"
    letter.write_text(LETTER, encoding="utf-8")
    result = invoke("extract", str(letter))
    assert result.exit_code == ExitCode.MISSING_DEPENDENCY
    assert result.output.strip() == "congvan: tesseract-ocr-vie is not installed"


def test_config_file_then_environment_then_option(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "kh.txt").write_text(LETTER, encoding="utf-8")
    config = tmp_path / "congvan.toml"
    config.write_text(f'db = "{tmp_path / "from-config.db"}"\njobs = 1\n', encoding="utf-8")
    assert invoke("--config", str(config), "ingest", str(inbox)).exit_code == 0
    assert (tmp_path / "from-config.db").exists()
    env = {"CONGVAN_DB": str(tmp_path / "from-env.db")}
    assert invoke("--config", str(config), "ingest", str(inbox), env=env).exit_code == 0
    assert (tmp_path / "from-env.db").exists()
    assert invoke("--config", str(config), "ingest", str(inbox), "--db", str(tmp_path / "opt.db"),
                  env=env).exit_code == 0
    assert (tmp_path / "opt.db").exists()
    tasks = invoke("--config", str(config), "tasks", "--format", "csv")
    assert tasks.exit_code == 0 and "35/KH-UBND" in tasks.output  # the config's database, read


def test_bad_config_is_a_usage_error_naming_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "congvan.toml"
    config.write_text('pages_per_second = 3\n', encoding="utf-8")
    result = invoke("--config", str(config), "tasks")
    assert result.exit_code == ExitCode.USAGE and "unknown setting 'pages_per_second'" in result.output


def test_page_timeout_travels_in_settings_not_a_module_global(tmp_path: Path) -> None:
    from pipeline.core.settings import Settings
    from pipeline.core.types import InputFile, LoadedDocument, Page
    from pipeline.stages import ocr

    source = InputFile(path=tmp_path / "x.png", sha256="0" * 64, size=1, kind="image", mime="image/png")
    import numpy as np

    document = LoadedDocument(source=source, pages=[Page(number=1, image=np.zeros((10, 10), np.uint8), dpi=300)])
    jobs = ocr._jobs_for(document, Settings(page_timeout_s=7, max_page_pixels=1234))
    assert jobs[0].timeout == 7 and jobs[0].max_pixels == 1234
    assert ocr.PAGE_TIMEOUT_S == 180.0  # untouched
    source_code = (Path(__file__).resolve().parents[1] / "pipeline" / "jobs" / "inbox.py").read_text()
    assert "PAGE_TIMEOUT_S =" not in source_code
