"""Compose mode: the GPU reservation as compose reads it, and images with models baked in across an upgrade."""
import json

import pytest

testinfra_hosts = ["ansible://ollama_servers"]

UUID = "GPU-8f6c2b1e-0a4d-4f7e-9c1b-3a5d6e7f8a9b"


@pytest.mark.parametrize("name, key, values", [
    ("all", "count", ("all", -1)),  # compose may write `all` back as -1
    ("count", "count", (1,)),
    ("ids", "device_ids", (["0", UUID],)),
])
def test_gpu_reservation_reaches_compose(host, name, key, values):
    record = json.loads(host.file("/root/gpu-compose-%s.json" % name).content_string)
    devices = record["config"]["services"]["ollama"]["deploy"]["resources"]["reservations"]["devices"]
    assert len(devices) == 1
    device = devices[0]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert device[key] in values
    assert ({"count", "device_ids"} - {key}).isdisjoint(device)
    # No NVIDIA runtime on the test host: the reservation is what stopped the container.
    assert 'could not select device driver "nvidia"' in record["outcome"]


def test_upgrade_serves_the_new_images_models(host):
    record = json.loads(host.file("/root/baked-images.json").content_string)
    baked, served = record["baked"], record["served"]
    assert baked["1"]["smollm2:latest"] != baked["2"]["smollm2:latest"]
    assert served["1"] == baked["1"]
    assert served["2"] == baked["2"]
    tags = json.loads(host.check_output("curl -sf http://127.0.0.1:11436/api/tags"))["models"]
    assert {m["name"]: m["digest"] for m in tags} == baked["2"]


def test_baked_image_runs_without_a_models_volume(host):
    container = json.loads(host.check_output("docker container inspect ollama-baked"))[0]
    assert container["Config"]["Image"] == "llmops/ollama-baked:rev2"
    assert not [m for m in container["Mounts"] if m["Destination"].startswith("/root/.ollama")]
    assert "volumes:" not in host.file("/opt/ollama-baked/compose.yaml").content_string
