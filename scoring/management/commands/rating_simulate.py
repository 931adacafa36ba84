"""manage.py rating_simulate (--scheme FILE.json | --preset NAME) --scores FILE.xlsx [-o OUT.xlsx].

评星模拟测算 without the web page: applies a scheme to a 汇总表 and prints the distribution
against the quotas and the ties at quota boundaries; with -o also writes the result workbook.
Nothing in the database is read or written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring import presets, simulation
from scoring.schemes import Scheme, SchemeError
from scoring.services import scheme_errors

MSG_NOT_FOUND = "找不到文件：{path}"
MSG_NO_PRESET = "没有名为“{name}”的预置方案，可选：{names}"
MSG_BAD_SCHEME = "方案文件 {path} 有 {count} 处错误：\n{lines}"
MSG_BAD_SCORES = "汇总表 {path} 有 {count} 处错误，未进行测算：\n{lines}"
MSG_WRITTEN = "已写入 {path}"


def _file(name: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise CommandError(MSG_NOT_FOUND.format(path=path))
    return path


def load_scheme(*, scheme_file: str | None, preset: str | None) -> Scheme:
    if preset is not None:
        try:
            return presets.load(preset)
        except KeyError:
            raise CommandError(
                MSG_NO_PRESET.format(name=preset, names="、".join(presets.available()))
            ) from None
    path = _file(scheme_file or "")
    try:
        return simulation.scheme_from_json(path.read_bytes())
    except SchemeError as exc:
        lines = scheme_errors(exc)
        raise CommandError(
            MSG_BAD_SCHEME.format(path=path, count=len(lines), lines="\n".join(lines))
        ) from None


class Command(BaseCommand):
    help = "评星模拟测算：把评星方案应用到汇总表（.xlsx），输出星级分布与名额情况；不影响正式评定。"

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--scheme", help="方案文件（JSON，格式见 scoring/schemes.py）")
        source.add_argument("--preset", help="预置方案名称：" + "、".join(presets.available()))
        parser.add_argument("--scores", required=True, help="汇总表文件（.xlsx，工作表“汇总表”）")
        parser.add_argument("-o", "--output", help="测算结果写入的 Excel 文件（.xlsx）")

    def handle(
        self,
        *args: Any,
        scheme: str | None,
        preset: str | None,
        scores: str,
        output: str | None,
        **options: Any,
    ) -> None:
        chosen = load_scheme(scheme_file=scheme, preset=preset)
        path = _file(scores)
        try:
            table = simulation.read_scores(path, chosen)
        except simulation.ScoresError as exc:
            raise CommandError(
                MSG_BAD_SCORES.format(path=path, count=len(exc.errors), lines="\n".join(exc.lines))
            ) from None
        sim = simulation.run(chosen, table)
        for line in simulation.summary_lines(sim):
            self.stdout.write(line)
        if output:
            with Path(output).open("wb") as handle:
                simulation.write_simulation(sim, handle)
            self.stdout.write(self.style.SUCCESS(MSG_WRITTEN.format(path=output)))
