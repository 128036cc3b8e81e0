"""Every model module, so ``Base.metadata`` describes the whole schema (migrations, the no-diff test)."""

from observatoire import models
from observatoire.police_municipale import models as police_municipale_models
from observatoire.police_nationale import fact_models
from observatoire.police_nationale import models as police_nationale_models
from observatoire.road import models as road_models
from observatoire.strategy import models as strategy_models
from observatoire.surveys import models as survey_models
from observatoire.videoprotection import models as video_models

Base = models.Base
metadata = Base.metadata
MODULES = (
    models,
    police_municipale_models,
    police_nationale_models,
    fact_models,
    road_models,
    video_models,
    strategy_models,
    survey_models,
)
