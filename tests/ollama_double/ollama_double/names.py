"""Model names as types/model/name.go parses, validates, matches and displays them."""
import re

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_PART = {
    # kind: (allowed characters after the first, min length, max length)
    "host": (re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*\Z"), 1, 350),
    "namespace": (re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z"), 1, 80),
    "model": (re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z"), 1, 80),
    "tag": (re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z"), 1, 80),
}


class Name:
    __slots__ = ("scheme", "host", "namespace", "model", "tag")

    def __init__(self, host, namespace, model, tag, scheme="https"):
        self.scheme = scheme
        self.host = host
        self.namespace = namespace
        self.model = model
        self.tag = tag

    @classmethod
    def parse(cls, text):
        """Split `[scheme://][host/][namespace/]model[:tag][@digest]`, filling in defaults; never raises."""
        scheme = "https"
        if "://" in text:
            scheme, text = text.split("://", 1)
        text = text.split("@", 1)[0]
        tag = DEFAULT_TAG
        colon = text.rfind(":")
        # A tag only when its colon comes after the last slash, so `host:5000/ns/m` keeps its port.
        if colon > text.rfind("/"):
            text, tag = text[:colon], text[colon + 1:]
        parts = text.split("/")
        model = parts.pop()
        namespace = parts.pop() if parts else DEFAULT_NAMESPACE
        host = "/".join(parts) if parts else DEFAULT_HOST
        return cls(host, namespace, model, tag, scheme)

    def is_valid(self):
        for kind in ("host", "namespace", "model", "tag"):
            value = getattr(self, kind)
            pattern, low, high = _PART[kind]
            if not (low <= len(value) <= high) or not pattern.match(value):
                return False
        return True

    def parts(self):
        return (self.host, self.namespace, self.model, self.tag)

    def display_shortest(self):
        if self.host.lower() == DEFAULT_HOST:
            if self.namespace.lower() == DEFAULT_NAMESPACE:
                return "%s:%s" % (self.model, self.tag)
            return "%s/%s:%s" % (self.namespace, self.model, self.tag)
        return "%s/%s/%s:%s" % (self.host, self.namespace, self.model, self.tag)

    def __str__(self):
        return "%s/%s/%s:%s" % self.parts()

    def __repr__(self):
        return "Name(%r)" % str(self)
