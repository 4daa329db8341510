"""docs/schemas/ matches the models, and the documents the pipeline writes validate against it."""

import json
from pathlib import Path

import jsonschema
import pytest

from pix_pipeline.domain.schemas import DEFAULT_FOLDER, main, stale_files
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled


def schema(stem: str) -> dict[str, object]:
    return json.loads((DEFAULT_FOLDER / f"{stem}.schema.json").read_text(encoding="utf-8"))


def test_the_committed_schemas_and_field_reference_are_current():
    stale = stale_files(DEFAULT_FOLDER)
    assert stale == [], f"run `python -m pix_pipeline.domain.schemas` (stale: {stale})"


def test_the_check_fails_on_a_stale_folder(tmp_path: Path):
    assert main(["--folder", str(tmp_path)]) == 0
    assert main(["--check", "--folder", str(tmp_path)]) == 0
    (tmp_path / "job_expose.schema.json").write_text("{}", encoding="utf-8")
    assert main(["--check", "--folder", str(tmp_path)]) == 1


def test_written_documents_validate_against_their_schemas(harness: Harness):
    folder = harness.final_input("SCHEMA1")
    write_settled(folder / "a.jpg", jpeg_bytes(photo((320, 240), seed=1)))
    write_settled(folder / "b.jpg", b"not a jpeg")
    harness.tick_and_run()
    metas = list(harness.job_path("SCHEMA1", "pipeline/meta/images").iterdir())
    assert len(metas) == 2
    for path in metas:
        jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema("image_meta"))
    expose = harness.read_json("SCHEMA1", "pipeline/meta/job_expose.json")
    jsonschema.validate(expose, schema("job_expose"))
    jsonschema.validate(
        harness.read_json("SCHEMA1", "gallery/expose.json"), schema("gallery_expose")
    )
    expose["counts"]["processed"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(expose, schema("job_expose"))


def test_the_package_ships_the_schemas_and_the_command_prints_them(capsys):
    assert main(["--print", "gallery_expose"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == schema("gallery_expose")
    assert printed["properties"]["schema_version"]["const"] == "2.0"
    photo = printed["$defs"]["GalleryPhoto"]["properties"]
    assert photo["caption_short"]["anyOf"][0]["maxLength"] == 80
    assert "not set yet" in photo["room_type"]["description"]
