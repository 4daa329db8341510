"""The one resource: the pipeline runtime (storage, registry, providers) from PIX_* settings."""

import dagster as dg
from pydantic import PrivateAttr

from pix_pipeline.runtime import Runtime, build_runtime
from pix_pipeline.settings import Settings, load_settings
from pix_pipeline.storage.base import Storage


def dagster_storage(settings: Settings) -> Storage | None:
    """On S3, the storage whose client comes from the S3 resource; None: the runtime decides."""
    if settings.s3 is None:
        return None
    # Imported here: dagster-aws and boto3 load only in processes that use S3.
    from pix_pipeline.defs.s3 import R2S3Resource
    from pix_pipeline.storage.s3 import S3Storage

    resource = R2S3Resource(endpoint_url=settings.s3.endpoint_url, region_name=settings.s3.region)
    return S3Storage(
        resource.get_client(), settings.s3.bucket, settings.s3.prefix, resource.endpoint_url
    )


class PixResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Storage, registry database and analysis providers, configured by PIX_* variables."""

    _runtime: Runtime | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = load_settings()
        self._runtime = build_runtime(settings, dagster_storage(settings))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("PixResource is used outside a Dagster run or sensor")
        return self._runtime
