"""Program templates: a named, reusable set of activities with their doses, per organization."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeprogram.models.base import Base, utcnow
from homeprogram.models.programs import Activity, Setting


class ProgramTemplate(Base):
    """A named program ("Handwriting starter") an organization applies to children in one step."""

    __tablename__ = "program_template"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list["ProgramTemplateItem"]] = relationship(
        back_populates="template",
        cascade="all, delete-orphan",
        order_by="ProgramTemplateItem.position",
    )


class ProgramTemplateItem(Base):
    """One activity of a template, with the prescription an assignment gets when applied."""

    __tablename__ = "program_template_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("program_template.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    dose_amount: Mapped[int | None]
    dose_unit: Mapped[str] = mapped_column(String(16), default="minutes")
    dose_text: Mapped[str] = mapped_column(String(120), default="")
    minutes_per_session: Mapped[int] = mapped_column(default=5)
    days_of_week: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4, 5, 6])
    times_per_day: Mapped[int] = mapped_column(default=1)
    # How many days the assignment runs once applied; None: until ended.
    duration_days: Mapped[int | None]
    setting: Mapped[str] = mapped_column(String(16), default=Setting.HOME)
    anchor: Mapped[str] = mapped_column(String(60), default="")
    caregiver_note: Mapped[str] = mapped_column(Text, default="")
    measure_name: Mapped[str | None] = mapped_column(String(80))
    measure_unit: Mapped[str | None] = mapped_column(String(30))
    measure_higher_is_better: Mapped[bool | None]

    template: Mapped[ProgramTemplate] = relationship(back_populates="items")
    activity: Mapped[Activity] = relationship()
