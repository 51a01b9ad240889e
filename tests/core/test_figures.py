import pytest
from matplotlib.patches import Rectangle

from core import figures


def _figure():
    fig = figures.new_figure(144, 72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.add_patch(Rectangle((0.1, 0.1), 0.5, 0.5))
    ax.text(0.2, 0.5, "Records screened (n = 1,234)", fontfamily=figures.FONT)
    return fig


def test_a_figure_is_sized_in_points():
    fig = _figure()
    assert tuple(fig.get_size_inches() * fig.dpi) == (144, 72)


def test_the_same_figure_saves_to_the_same_bytes_in_every_format():
    for fmt in figures.FORMATS:
        first = figures.save(_figure(), fmt, title="T", salt="test")
        assert first == figures.save(_figure(), fmt, title="T", salt="test"), fmt


def test_svg_text_stays_text_and_pdf_and_png_are_what_they_say():
    svg = figures.save(_figure(), "svg", title="T", salt="test").decode()
    assert "Records screened (n = 1,234)" in svg and "<text" in svg
    assert figures.save(_figure(), "pdf", title="T", salt="test").startswith(b"%PDF")
    assert figures.save(_figure(), "png", title="T", salt="test").startswith(b"\x89PNG")


def test_saving_leaves_the_global_settings_as_they_were():
    import matplotlib

    before = matplotlib.rcParams["svg.fonttype"]
    figures.save(_figure(), "svg", title="T", salt="test")
    assert matplotlib.rcParams["svg.fonttype"] == before


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="svg, png or pdf"):
        figures.save(_figure(), "gif", title="T", salt="test")


def test_text_is_measured_in_the_one_font():
    assert figures.text_width("abc", 10) < figures.text_width("abcdef", 10)
    assert figures.text_width("abc", 10) < figures.text_width("abc", 10, bold=True)
