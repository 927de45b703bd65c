"""The official `ollama` and `openai` Python clients work against the double unchanged."""
import base64

import pytest

ollama = pytest.importorskip("ollama")
openai = pytest.importorskip("openai")


def test_ollama_client_round_trip(double):
    client = ollama.Client(host=double.url)
    progress = list(client.pull("smollm2:135m", stream=True))
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    assert any(p.completed and p.total and p.digest for p in progress)
    assert client.pull("all-minilm").status == "success"
    names = {m.model for m in client.list().models}
    assert names == {"smollm2:135m", "all-minilm:latest"}
    show = client.show("smollm2:135m")
    assert show.details.family == "llama" and show.modelinfo["general.architecture"] == "llama"
    assert "completion" in show.capabilities and show.modified_at is not None
    client.copy("smollm2:135m", "copy:1")
    assert "copy:1" in {m.model for m in client.list().models}
    client.delete("copy:1")
    assert "copy:1" not in {m.model for m in client.list().models}
    with pytest.raises(ollama.ResponseError) as err:
        client.delete("copy:1")
    assert err.value.status_code == 404 and err.value.error == "model 'copy:1' not found"
    gen = client.generate("smollm2:135m", "Why is the sky blue?")
    assert gen.done and gen.response and gen.eval_count > 0 and gen.eval_duration > 0
    parts = list(client.chat("smollm2:135m", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert parts[-1].done and "".join(p.message.content for p in parts)
    emb = client.embed("all-minilm", ["a", "b"])
    assert len(emb.embeddings) == 2 and len(emb.embeddings[0]) == 384
    ps = client.ps()
    assert {m.model for m in ps.models} == {"smollm2:135m", "all-minilm:latest"}
    with pytest.raises(ollama.ResponseError) as err:
        client.generate("all-minilm", "x")
    assert err.value.status_code == 400
    with pytest.raises(ollama.ResponseError) as err:
        client.pull("smollm2:missing")
    assert "file does not exist" in err.value.error


def test_ollama_client_create(double, tmp_path):
    client = ollama.Client(host=double.url)
    client.pull("smollm2:135m")
    statuses = [p.status for p in client.create("pirate", from_="smollm2:135m", system="Arr.", stream=True)]
    assert statuses[-1] == "success"
    assert "SYSTEM Arr." in client.show("pirate").modelfile
    blob = tmp_path / "w.gguf"
    blob.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 16 + b"x" * 4096)
    digest = client.create_blob(blob)
    assert client.create("local", files={"w.gguf": digest}).status == "success"


def test_openai_client(double):
    ollama.Client(host=double.url).pull("smollm2:135m")
    ollama.Client(host=double.url).pull("all-minilm")
    client = openai.OpenAI(base_url=double.url + "/v1", api_key="ollama")
    assert {m.id for m in client.models.list()} == {"smollm2:135m", "all-minilm:latest"}
    assert client.models.retrieve("smollm2:135m").owned_by == "library"
    resp = client.chat.completions.create(model="smollm2:135m", messages=[{"role": "user", "content": "hi"}])
    assert resp.choices[0].message.content and resp.usage.completion_tokens > 0
    chunks = list(client.chat.completions.create(model="smollm2:135m", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == resp.choices[0].message.content
    assert client.completions.create(model="smollm2:135m", prompt="once").choices[0].text
    emb = client.embeddings.create(model="all-minilm", input=["a"])
    assert len(emb.data[0].embedding) == 384
    emb64 = client.embeddings.create(model="all-minilm", input=["a"], encoding_format="base64")
    assert len(base64.b64decode(emb64.data[0].embedding)) == 384 * 4
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="smollm2:135m", messages=[])
