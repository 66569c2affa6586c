"""Build hook: compile the message catalogs into the wheel (the .mo files are not in git)."""

import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        # Loaded by path: importing the package would need Flask in the build environment.
        spec = importlib.util.spec_from_file_location(
            "homeprogram_catalogs", root / "homeprogram" / "catalogs.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.compile_all(root / "homeprogram" / "translations", only_stale=False)
        # git-ignored, so listed explicitly to be packed.
        build_data["artifacts"].append("homeprogram/translations/*/LC_MESSAGES/*.mo")
