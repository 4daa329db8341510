"""Assemble the pipeline's parts from settings: storage, registry, providers, notifier."""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from pix_pipeline.analysis.factory import Providers, build_providers, load_plugin
from pix_pipeline.notify.events import Notifier
from pix_pipeline.notify.notifiers import LogNotifier, WebhookNotifier
from pix_pipeline.registry.repository import Registry
from pix_pipeline.settings import Settings, SettingsError
from pix_pipeline.storage.base import Storage
from pix_pipeline.storage.local import LocalStorage

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Runtime:
    """Everything a sensor tick or an asset needs, built once per process."""

    settings: Settings
    storage: Storage
    registry: Registry
    providers: Providers
    notifier: Notifier

    def close(self) -> None:
        self.registry.dispose()


def build_storage(settings: Settings) -> Storage:
    if settings.s3 is not None:
        # Imported here: boto3 is only loaded where S3 is used.
        from pix_pipeline.storage.s3 import S3Storage, make_s3_client

        client = make_s3_client(
            endpoint_url=settings.s3.endpoint_url, region_name=settings.s3.region
        )
        return S3Storage(client, settings.s3.bucket, settings.s3.prefix, settings.s3.endpoint_url)
    settings.local_root.mkdir(parents=True, exist_ok=True)
    return LocalStorage(settings.local_root)


def build_notifier(settings: Settings) -> Notifier:
    if settings.notifier == "log":
        return LogNotifier()
    if settings.notifier == "webhook":
        url, secret = settings.notify.webhook_url, settings.notify.webhook_secret
        if url is None or secret is None:  # load_settings refuses this already
            raise SettingsError("PIX_NOTIFIER=webhook needs PIX_NOTIFY_WEBHOOK_URL and _SECRET")
        return WebhookNotifier(
            url, secret.get_secret_value(), timeout_seconds=settings.notify.timeout_seconds
        )
    notifier = load_plugin("PIX_NOTIFIER", settings.notifier)
    if not isinstance(notifier, Notifier):
        raise SettingsError(f"PIX_NOTIFIER={settings.notifier!r} has no notify() method")
    return notifier


def build_runtime(settings: Settings, storage: Storage | None = None) -> Runtime:
    """The runtime; `storage` replaces the one the settings describe (Dagster passes its own)."""
    return Runtime(
        settings=settings,
        storage=storage if storage is not None else build_storage(settings),
        registry=Registry.from_url(settings.database_url),
        providers=build_providers(settings),
        notifier=build_notifier(settings),
    )


def on_workers(
    settings: Settings, work: Callable[[T], R], items: Iterable[T], name: str
) -> Iterator[R]:
    """`work` over `items` on up to PIX_IMAGE_WORKERS threads, results in order, as they come.

    Per-image work (decoders, libvips, hashing, file I/O, ONNX) releases the GIL, so threads
    spread it over the cores; a single item runs inline.
    """
    todo = list(items)
    workers = min(settings.image_workers, len(todo))
    if workers <= 1:
        yield from map(work, todo)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"pix-{name}") as pool:
        yield from pool.map(work, todo)
