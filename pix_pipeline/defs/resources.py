"""The one resource: the pipeline runtime (storage, registry, providers) from PIX_* settings."""

import dagster as dg
from pydantic import PrivateAttr

from pix_pipeline.runtime import Runtime, build_runtime
from pix_pipeline.settings import load_settings


class PixResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Storage, registry database and analysis providers, configured by PIX_* variables."""

    _runtime: Runtime | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._runtime = build_runtime(load_settings())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("PixResource is used outside a Dagster run or sensor")
        return self._runtime
