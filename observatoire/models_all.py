"""Every model module, so ``Base.metadata`` describes the whole schema (migrations, the no-diff test)."""

from observatoire import models, models_events, models_pm, models_pn, models_road  # noqa: F401
from observatoire.models import Base

metadata = Base.metadata
