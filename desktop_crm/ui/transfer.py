"""Import and export from the File menu: in a worker, with a progress dialog that cancels, and a
report of what was imported, skipped and why."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressDialog,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_crm.data import queries
from desktop_crm.data.db import Database

if TYPE_CHECKING:
    # imported when an import or export runs: their parsers (vobject, phonenumbers' geodata)
    # cost 0.4 s at start
    from desktop_crm.data.importing import ImportReport

from .tasks import Progress, Task, TaskCancelled, TaskContext, TaskRunner

Format = Literal["csv", "vcard", "json"]
EXPORT_FORMATS: dict[str, Format] = {".csv": "csv", ".vcf": "vcard", ".json": "json"}


class ImportReportDialog(QDialog):
    """Counts per file and every problem with its line, in the words the importer wrote."""

    def __init__(self, reports: Sequence[ImportReport], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importReportDialog")
        self.setWindowTitle(self.tr("Import report"))
        layout = QVBoxLayout(self)
        created = sum(r.created for r in reports)
        updated = sum(r.updated for r in reports)
        unchanged = sum(r.unchanged for r in reports)
        skipped = sum(r.skipped for r in reports)
        self.summary_label = QLabel(
            self.tr(
                "Imported: {created} new, {updated} completed, {unchanged} already there. "
                "Skipped: {skipped}."
            ).format(created=created, updated=updated, unchanged=unchanged, skipped=skipped)
        )
        self.summary_label.setObjectName("importSummary")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        if any(r.cancelled for r in reports):
            cancelled = QLabel(
                self.tr("The import was cancelled; the contacts counted here were saved.")
            )
            cancelled.setObjectName("importCancelled")
            layout.addWidget(cancelled)
        self.problems = QTableWidget(0, 3)
        self.problems.setObjectName("importProblems")
        self.problems.setHorizontalHeaderLabels([self.tr("File"), self.tr("Line"), self.tr("Why")])
        self.problems.verticalHeader().hide()
        self.problems.horizontalHeader().setStretchLastSection(True)
        self.problems.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        not_listed = 0
        for report in reports:
            not_listed += report.problems_not_listed
            for problem in report.problems:
                row = self.problems.rowCount()
                self.problems.insertRow(row)
                why = problem.reason + (f" ({problem.raw})" if problem.raw else "")
                for column, text in enumerate(
                    (Path(report.file).name, str(problem.line or ""), why)
                ):
                    self.problems.setItem(row, column, QTableWidgetItem(text))
        heading = QLabel(
            self.tr("Problems ({count}):").format(count=self.problems.rowCount() + not_listed)
            if self.problems.rowCount()
            else self.tr("No problems.")
        )
        layout.addWidget(heading)
        layout.addWidget(self.problems)
        self.problems.setVisible(self.problems.rowCount() > 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(720, 420 if self.problems.rowCount() else 160)


class _CountingWriter:
    """A text stream that counts records for the progress bar and stops when cancelled."""

    def __init__(self, out: TextIO, context: TaskContext, total: int, per_record: int) -> None:
        self.out = out
        self.context = context
        self.total = total
        self.per_record = per_record
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        if self.writes % (200 * self.per_record) == 0:
            self.context.raise_if_cancelled()
            self.context.report_progress(
                min(self.writes // self.per_record, self.total), self.total
            )
        return self.out.write(text)


def _progress_dialog(parent: QWidget, text: str, title: str, cancel: str) -> QProgressDialog:
    dialog = QProgressDialog(text, cancel, 0, 0, parent)
    dialog.setObjectName("transferProgress")
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    return dialog


class Transfers(QObject):
    """Runs imports and exports for a window (one at a time)."""

    def __init__(self, parent: QWidget, db: Database, runner: TaskRunner, home_region: str) -> None:
        super().__init__(parent)
        self.window = parent
        self.db = db
        self.runner = runner
        self.home_region = home_region
        self.task: Task[Any] | None = None
        self.progress: QProgressDialog | None = None
        self.report_dialog: ImportReportDialog | None = None

    def _start(
        self,
        work: Callable[[TaskContext], Any],
        text: str,
        title: str,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> Task[Any]:
        dialog = _progress_dialog(self.window, text, title, self.tr("Cancel"))
        self.progress = dialog

        def finish() -> None:
            self.task = None
            dialog.close()
            dialog.deleteLater()
            self.progress = None

        def progress(p: Progress) -> None:
            if p.total > 0:
                dialog.setMaximum(p.total)
                dialog.setValue(min(p.done, p.total))
            if p.label:
                dialog.setLabelText(p.label)

        def done(result: Any) -> None:
            finish()
            on_done(result)

        def failed(exc: BaseException) -> None:
            finish()
            on_error(exc)

        def cancelled() -> None:
            finish()
            on_done(None)

        task = self.runner.run(
            work,
            on_done=done,
            on_error=failed,
            on_progress=progress,
            on_cancelled=cancelled,
            name="transfer",
        )
        dialog.canceled.connect(task.cancel)
        self.task = task
        dialog.show()
        return task

    def import_files(
        self,
        paths: Sequence[Path],
        on_done: Callable[[list[ImportReport]], None],
        on_error: Callable[[BaseException], None],
    ) -> Task[Any]:
        db, region = self.db, self.home_region

        def work(context: TaskContext) -> list[ImportReport]:
            from desktop_crm.data.importing import import_file

            reports = []
            for number, path in enumerate(paths, start=1):
                label = self.tr("Importing {file} ({number} of {count})…")
                label = label.format(file=Path(path).name, number=number, count=len(paths))
                context.report_progress(0, 0, label)

                def progress(done: int, total: int, label: str = label) -> None:
                    context.report_progress(done, total, label)

                report = import_file(
                    db,
                    Path(path),
                    home_region=region,
                    progress=progress,
                    cancel=lambda: context.cancelled,
                )
                reports.append(report)
                if report.cancelled:
                    break
            return reports

        def done(reports: list[ImportReport] | None) -> None:
            on_done(reports or [])

        return self._start(
            work,
            self.tr("Importing contacts…"),
            self.tr("Import"),
            done,
            on_error,
        )

    def show_report(self, reports: Sequence[ImportReport]) -> ImportReportDialog:
        dialog = ImportReportDialog(reports, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.report_dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "report_dialog", None))
        dialog.open()
        return dialog

    def export_file(
        self,
        path: Path,
        on_done: Callable[[int | None], None],
        on_error: Callable[[BaseException], None],
    ) -> Task[Any]:
        fmt = EXPORT_FORMATS.get(path.suffix.lower(), "csv")
        db = self.db

        def work(context: TaskContext) -> int:
            from desktop_crm.data.exporting import export_contacts

            with db.session() as session:
                total = queries.count_contacts(session)
            partial = path.with_name(path.name + ".part")
            try:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    counting = _CountingWriter(out, context, total, 2 if fmt == "json" else 1)
                    written = export_contacts(db, fmt, counting)  # type: ignore[arg-type]
            except TaskCancelled:
                partial.unlink(missing_ok=True)  # a cancelled export leaves no half file
                raise
            partial.replace(path)
            return written

        return self._start(
            work,
            self.tr("Exporting contacts…"),
            self.tr("Export"),
            on_done,
            on_error,
        )
