"""The Dagster entry point (workspace.yaml): definitions are built when the code location loads.

Settings are read here, at load time and not at import, so a bad PIX_* value stops the
code location with a message that names the variable.
"""

import dagster as dg

from pix_pipeline.analysis.factory import build_providers
from pix_pipeline.defs.assets import final_input, processing_assets, released_gallery
from pix_pipeline.defs.jobs import process_pix_job, release_gallery_job, revoke_gallery_job
from pix_pipeline.defs.notifications import (
    build_notification_outbox_sensor,
    customer_notified,
    retry_notifications_job,
)
from pix_pipeline.defs.resources import PixResource
from pix_pipeline.defs.sensors import build_final_input_sensor
from pix_pipeline.runtime import build_notifier
from pix_pipeline.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """All assets, checks, jobs, sensors and the resource for the given settings."""
    build_providers(settings)  # a broken provider plugin fails now, not in the first run
    build_notifier(settings)
    return dg.Definitions(
        assets=[final_input, *processing_assets, released_gallery],
        asset_checks=[customer_notified],
        jobs=[process_pix_job, release_gallery_job, revoke_gallery_job, retry_notifications_job],
        sensors=[
            build_final_input_sensor(settings.sensor_interval_seconds),
            build_notification_outbox_sensor(settings.notify.interval_seconds),
        ],
        resources={"pix": PixResource()},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
