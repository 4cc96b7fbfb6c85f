import pytest

from cloud_analytics.cli import build_parser, main


@pytest.mark.parametrize("argv", [[], ["cassandra"], ["spark"], ["landing"], ["landing", "generate"], ["run"]])
def test_help_for_every_command(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: cloud-analytics" in capsys.readouterr().out


def test_known_failure_is_one_line_without_traceback(tmp_path, capsys):
    code = main(["landing", "import", str(tmp_path / "missing.zip"), "--out", str(tmp_path / "landing")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "missing.zip" in err
    assert "Traceback" not in err


def test_generated_docs_are_current():
    from cloud_analytics.docs_gen import write_docs

    assert write_docs(check=True) == [], "run `cloud-analytics docs` and commit the result"
