"""Model name parsing, validation and display (fact sheet §2)."""
import pytest

from ollama_double.names import Name


@pytest.mark.parametrize("text,parts,shown", [
    ("llama3.2", ("registry.ollama.ai", "library", "llama3.2", "latest"), "llama3.2:latest"),
    ("ns/m:t", ("registry.ollama.ai", "ns", "m", "t"), "ns/m:t"),
    ("myhost:5000/library/m:t", ("myhost:5000", "library", "m", "t"), "myhost:5000/library/m:t"),
    ("myhost:5000/ns/m", ("myhost:5000", "ns", "m", "latest"), "myhost:5000/ns/m:latest"),
    ("http://h:1/ns/m:t", ("h:1", "ns", "m", "t"), "h:1/ns/m:t"),
    ("smollm2:135m@sha256:abc", ("registry.ollama.ai", "library", "smollm2", "135m"), "smollm2:135m"),
])
def test_parse_and_display(text, parts, shown):
    name = Name.parse(text)
    assert name.parts() == parts and name.is_valid() and name.display_shortest() == shown


def test_scheme():
    assert Name.parse("http://h/ns/m").scheme == "http"
    assert Name.parse("m").scheme == "https"


@pytest.mark.parametrize("text", ["", "a b", "-m", "ns.x/m", "m:", "m:t/x", "a/b/c/d", "m:" + "t" * 81, "x" * 81, "h/ns/m:t:u"])
def test_invalid(text):
    assert not Name.parse(text).is_valid()
