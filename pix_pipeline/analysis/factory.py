"""Choose providers by settings: a built-in name, a prepared one (refused), or `module:Class`."""

import importlib
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

BUILTIN: dict[tuple[str, str], type] = {
    ("privacy", "none"): NoPrivacyChecks,
    ("semantics", "none"): NoSemantics,
    ("cleanup", "rules"): RulesCleanup,
    ("depth", "none"): NoDepth,
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


def _build(kind: str, variable: str, spec: str, protocol: type) -> Any:
    if (kind, spec) in BUILTIN:
        return BUILTIN[(kind, spec)]()
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
    return Providers(
        privacy=_build(
            "privacy", "PIX_PRIVACY_PROVIDER", settings.privacy_provider, PrivacyProvider
        ),
        semantics=_build(
            "semantics", "PIX_SEMANTICS_PROVIDER", settings.semantics_provider, SemanticsProvider
        ),
        cleanup=_build(
            "cleanup", "PIX_CLEANUP_PROVIDER", settings.cleanup_provider, CleanupProvider
        ),
        depth=_build("depth", "PIX_DEPTH_PROVIDER", settings.depth_provider, DepthProvider),
    )
