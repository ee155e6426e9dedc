import logging

from headshots._quiet import LIBRARY_LOGGER, quiet_libraries


def test_library_warnings_are_kept_for_the_front_end_and_never_printed(capfd):
    got: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append(record)

    keep = Keep()
    logging.getLogger("headshots").addHandler(keep)
    try:
        with quiet_libraries():
            logging.getLogger("transformers.models.clip").warning("prompt was truncated")
            logging.getLogger("diffusers.loaders").warning("no LoRA keys for text_encoder")
        logging.getLogger("peft").warning("outside: not ours to route")
    finally:
        logging.getLogger("headshots").removeHandler(keep)
    assert [r.getMessage() for r in got] == ["prompt was truncated",
                                             "no LoRA keys for text_encoder"]
    assert all(r.name.startswith(("transformers", "diffusers")) for r in got)
    out, err = capfd.readouterr()
    assert "truncated" not in out + err and "LoRA keys" not in out + err
    assert logging.getLogger(LIBRARY_LOGGER).handlers  # a NullHandler: silent by default


def test_progress_bars_come_back_after_the_block():
    from diffusers.utils import logging as dlog

    dlog.enable_progress_bar()
    with quiet_libraries():
        assert not dlog.is_progress_bar_enabled()
    assert dlog.is_progress_bar_enabled()
