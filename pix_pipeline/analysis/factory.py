"""Choose providers by settings: a built-in name, a prepared one (refused), or `module:Class`."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pix_pipeline.analysis.base import (
    CleanupProvider,
    DepthProvider,
    PrivacyProvider,
    SemanticsProvider,
)
from pix_pipeline.analysis.builtin import NoDepth, NoPrivacyChecks, NoSemantics, RulesCleanup
from pix_pipeline.analysis.prepared import PREPARED_PROVIDERS
from pix_pipeline.settings import Settings, SettingsError


def _local_privacy(settings: Settings) -> PrivacyProvider:
    # Imported here: OpenCV and onnxruntime load only where the local check is chosen.
    from pix_pipeline.analysis.local.privacy import LocalPrivacyChecks

    return LocalPrivacyChecks(settings.privacy)


BUILTIN: dict[tuple[str, str], Callable[[Settings], Any]] = {
    ("privacy", "local"): _local_privacy,
    ("privacy", "none"): lambda _: NoPrivacyChecks(),
    ("semantics", "none"): lambda _: NoSemantics(),
    ("cleanup", "rules"): lambda _: RulesCleanup(),
    ("depth", "none"): lambda _: NoDepth(),
}


@dataclass(frozen=True)
class Providers:
    privacy: PrivacyProvider
    semantics: SemanticsProvider
    cleanup: CleanupProvider
    depth: DepthProvider


def load_plugin(variable: str, spec: str) -> Any:
    """Instantiate `module:Class` (or call `module:factory`) named by a PIX_* variable."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SettingsError(f"{variable}={spec!r}: cannot import {module_name!r}: {exc}") from exc
    try:
        factory = getattr(module, attr)
    except AttributeError:
        raise SettingsError(f"{variable}={spec!r}: {module_name!r} has no {attr!r}") from None
    return factory()


def _build(settings: Settings, kind: str, variable: str, spec: str, protocol: type) -> Any:
    if (kind, spec) in BUILTIN:
        return BUILTIN[(kind, spec)](settings)
    if (kind, spec) in PREPARED_PROVIDERS:
        raise SettingsError(
            f"{variable}={spec!r}: this provider is prepared (config, request, result schema)"
            " but not implemented yet; choose a built-in one or a 'module:Class' plugin"
        )
    provider = load_plugin(variable, spec)
    if not isinstance(provider, protocol):
        raise SettingsError(f"{variable}={spec!r} does not implement {protocol.__name__}")
    return provider


def build_providers(settings: Settings) -> Providers:
    s = settings
    return Providers(
        privacy=_build(s, "privacy", "PIX_PRIVACY_PROVIDER", s.privacy_provider, PrivacyProvider),
        semantics=_build(
            s, "semantics", "PIX_SEMANTICS_PROVIDER", s.semantics_provider, SemanticsProvider
        ),
        cleanup=_build(s, "cleanup", "PIX_CLEANUP_PROVIDER", s.cleanup_provider, CleanupProvider),
        depth=_build(s, "depth", "PIX_DEPTH_PROVIDER", s.depth_provider, DepthProvider),
    )
