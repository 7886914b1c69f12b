"""Seed the produce category tree. Ids are fixed: API clients and filters refer to them."""
from django.db import migrations

# (id, parent id, slug, Vietnamese name, English name)
CATEGORIES = [
    (1, None, "gao-ngu-coc", "Gạo và ngũ cốc", "Rice and grains"),
    (101, 1, "gao", "Gạo", "Rice"),
    (102, 1, "nep", "Nếp", "Glutinous rice"),
    (103, 1, "ngo-dau-hat", "Ngô, đậu và hạt", "Corn, beans and nuts"),
    (2, None, "trai-cay", "Trái cây", "Fruit"),
    (201, 2, "sau-rieng", "Sầu riêng", "Durian"),
    (202, 2, "buoi", "Bưởi", "Pomelo"),
    (203, 2, "mang-cut", "Măng cụt", "Mangosteen"),
    (204, 2, "chom-chom", "Chôm chôm", "Rambutan"),
    (205, 2, "xoai", "Xoài", "Mango"),
    (206, 2, "dua-trai", "Dừa", "Coconut"),
    (207, 2, "dua-luoi-dua-hau", "Dưa", "Melons"),
    (208, 2, "cam-quyt", "Cam, quýt", "Oranges and mandarins"),
    (209, 2, "nhan", "Nhãn", "Longan"),
    (210, 2, "dau", "Dâu", "Berries (dâu Hạ Châu)"),
    (299, 2, "trai-cay-khac", "Trái cây khác", "Other fruit"),
    (3, None, "rau-cu", "Rau củ", "Vegetables"),
    (301, 3, "rau-la", "Rau ăn lá", "Leafy greens"),
    (302, 3, "cu-qua", "Củ, quả", "Roots and fruiting vegetables"),
    (303, 3, "rau-gia-vi", "Rau gia vị", "Herbs"),
    (304, 3, "nam", "Nấm", "Mushrooms"),
    (4, None, "thuy-san", "Thủy sản", "Fish and seafood"),
    (401, 4, "ca", "Cá", "Fish"),
    (402, 4, "tom", "Tôm", "Shrimp"),
    (499, 4, "thuy-san-khac", "Thủy sản khác", "Other seafood"),
    (5, None, "gia-suc-gia-cam", "Gia súc, gia cầm", "Livestock and poultry"),
    (501, 5, "ga", "Gà", "Chicken"),
    (502, 5, "vit", "Vịt", "Duck"),
    (503, 5, "heo", "Heo", "Pork"),
    (504, 5, "trung", "Trứng", "Eggs"),
    (6, None, "san-pham-che-bien-ocop", "Sản phẩm chế biến, OCOP", "Processed products and OCOP"),
    (601, 6, "banh-keo", "Bánh, kẹo", "Cakes and sweets"),
    (602, 6, "mam-kho", "Mắm, khô", "Fermented and dried"),
    (603, 6, "mat-ong-tra", "Mật ong, trà", "Honey and tea"),
    (699, 6, "che-bien-khac", "Sản phẩm chế biến khác", "Other processed products"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("farms", "Category")
    for position, (pk, parent, slug, name, name_en) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            pk=pk,
            defaults=dict(parent_id=parent, slug=slug, name=name, name_en=name_en, position=position),
        )
    # Explicit ids do not move PostgreSQL's sequence; without this the next new category fails.
    from django.core.management.color import no_style

    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Category]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("farms", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
