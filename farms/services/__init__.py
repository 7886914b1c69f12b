"""Everything that writes farms data. Import services from here."""

from .certifications import (  # noqa: F401
    certification_create,
    certification_decide,
    certification_delete,
    certifications_expire,
)
from .farms import (  # noqa: F401
    IDENTITY_FIELDS,
    farm_decide,
    farm_forget_owner,
    farm_register,
    farm_reinstate,
    farm_resubmit,
    farm_suspend,
    farm_transition,
    farm_update,
)
from .lots import lot_create, lot_delete, lot_update  # noqa: F401
from .products import (  # noqa: F401
    product_archive,
    product_create,
    product_image_add,
    product_image_delete,
    product_image_process,
    product_images_reorder,
    product_update,
)
