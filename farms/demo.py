"""Demo households of Cần Thơ with their listings, photos, certificates and harvest lots.

Everything is made through the services (`farms.services`, `user_create`), so the demo data
meets the same rules as a real household: registration, an official's approval, publishing,
photo cleaning and sizing, certificate checks. Dates are relative to today.

Safe to run again: a household is built in one transaction, and a farmer account that already
has a household is left exactly as it is.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from marketplace.accounts.models import Role, User
from marketplace.accounts.phone import normalize_phone
from marketplace.accounts.services import user_create
from marketplace.geo.models import Ward
from marketplace.text import fold

from . import services
from .demo_photos import certificate_image, produce_photo
from .models import Certification, Farm, FarmStatus, HarvestLot, Product, ProductImage


@dataclass(frozen=True)
class Produce:
    """What a kind of produce is sold as: name, category id, unit, picture, description."""

    name: str
    category: int
    unit: str
    photo: str
    description: str
    practices: str = ""
    unit_weight_kg: str | None = None
    min_order: str = "1"


_FRUIT_PRACTICES = (
    "Bón phân chuồng hoai và phân hữu cơ vi sinh sau mỗi vụ; tỉa cành, vệ sinh vườn; "
    "phòng sâu bệnh bằng bẫy và thiên địch, chỉ dùng thuốc trong danh mục cho phép; "
    "ngưng phun thuốc 21 ngày trước thu hoạch; ghi nhật ký vườn hằng tuần."
)
_RICE_PRACTICES = (
    "Giống xác nhận; sạ thưa, bón phân theo bảng so màu lá, giảm đạm; tưới ướt khô xen kẽ; "
    "ngưng thuốc bảo vệ thực vật 30 ngày trước gặt; gặt máy, sấy ở ẩm độ 14%, xay xát trong xã."
)
_FISH_PRACTICES = (
    "Ao đất ven sông, thay nước theo con nước; thức ăn công nghiệp có nguồn gốc rõ ràng, "
    "không dùng kháng sinh cấm; ngưng thuốc thủy sản 4 tuần trước thu hoạch; thu bằng lưới, giao sống."
)

PRODUCE: dict[str, Produce] = {
    # Rice and grains
    "st25": Produce(
        "Gạo ST25",
        101,
        "kg",
        "rice",
        "Gạo ST25 vụ Đông Xuân, hạt dài, cơm dẻo thơm mùi lá dứa, để nguội vẫn mềm. "
        "Xay xát tại nhà máy trong xã, đóng bao 5 kg và 10 kg.",
        _RICE_PRACTICES,
        min_order="2",
    ),
    "st25_shrimp": Produce(
        "Gạo ST25 lúa – tôm",
        101,
        "kg",
        "rice",
        "Lúa trồng trên ruộng luân canh lúa – tôm vùng nước lợ, không phun thuốc, không bón phân "
        "hóa học. Hạt gạo trong, thơm tự nhiên, cơm mềm dẻo.",
        "Luân canh một vụ lúa, một vụ tôm; không dùng phân hóa học và thuốc trừ cỏ; "
        "rửa mặn đầu vụ bằng nước mưa; phơi lúa trên sân, xay xát trong tuần.",
        min_order="2",
    ),
    "nep": Produce(
        "Nếp sáp",
        102,
        "kg",
        "rice",
        "Nếp sáp hạt tròn, trắng đục, nấu xôi và gói bánh tét dẻo mềm, thơm.",
        _RICE_PRACTICES,
    ),
    "jasmine": Produce(
        "Gạo thơm Jasmine 85",
        101,
        "kg",
        "rice",
        "Gạo thơm mềm cơm, hợp bữa cơm hằng ngày; giá phải chăng cho quán ăn và bếp ăn tập thể.",
        _RICE_PRACTICES,
        min_order="5",
    ),
    "mot_bui_do": Produce(
        "Gạo lứt Một Bụi Đỏ",
        101,
        "kg",
        "rice",
        "Giống lúa mùa đặc sản, gạo lứt đỏ giữ nguyên lớp cám, nhiều chất xơ; nấu cơm hoặc rang làm trà.",
        _RICE_PRACTICES,
    ),
    # Fruit
    "mangcut": Produce(
        "Măng cụt Phong Điền",
        203,
        "kg",
        "mangosteen",
        "Măng cụt vườn lâu năm ven sông, trái đều, vỏ mỏng, múi trắng ngọt thanh. "
        "Hái trong ngày, lựa trái loại 1 (7–9 trái/kg).",
        "Vườn cây trên 20 năm tuổi; bón phân chuồng hoai và phân hữu cơ vi sinh; tỉa cành sau thu "
        "hoạch; hái bằng sào có túi lưới, không để trái rơi dập.",
    ),
    "chomchom": Produce(
        "Chôm chôm Thái",
        204,
        "kg",
        "rambutan",
        "Chôm chôm Thái tróc, cơm dày, giòn, ngọt, hạt lép dễ tách. Cắt theo chùm, giao trong ngày.",
        "Tưới phun mưa gốc; xử lý ra hoa theo lịch chung của tổ hợp tác; dùng bẫy và thiên địch "
        "phòng sâu đục trái; cách ly thuốc 21 ngày trước khi cắt.",
        min_order="2",
    ),
    "dau_ha_chau": Produce(
        "Dâu Hạ Châu",
        210,
        "kg",
        "berries",
        "Đặc sản Phong Điền: trái chín vàng, vỏ mỏng, vị ngọt chua nhẹ, thơm mát. "
        "Cắt cả chùm, để được 4–5 ngày.",
        "Cây dâu ghép trên 15 năm tuổi; chỉ bón phân hữu cơ, không dùng chất kích thích; tỉa bớt "
        "chùm non cho trái to đều; thu hoạch khi vỏ chuyển vàng.",
    ),
    "ri6": Produce(
        "Sầu riêng Ri6",
        201,
        "kg",
        "durian",
        "Sầu riêng Ri6 cơm vàng, hạt lép, béo ngọt, mùi thơm vừa. Trái 2,5–4 kg, cắt già "
        "105 ngày sau đậu trái, không xử lý thúc chín.",
        "Cắt trái đúng 105 ngày sau xổ nhụy; không nhúng hóa chất thúc chín; phòng nấm "
        "Phytophthora bằng chế phẩm Trichoderma; ghi sổ nhật ký phân bón và thuốc.",
        min_order="2",
    ),
    "monthong": Produce(
        "Sầu riêng Monthong",
        201,
        "kg",
        "durian",
        "Sầu riêng Monthong cơm dày, vàng nhạt, ráo, ngọt béo, ít mùi. Trái 3–5 kg.",
        _FRUIT_PRACTICES,
        min_order="3",
    ),
    "buoi_da_xanh": Produce(
        "Bưởi da xanh",
        202,
        "trai",
        "pomelo",
        "Bưởi da xanh ruột hồng, múi ráo, ngọt, không the đắng. Trái 1,3–1,8 kg, bán theo trái.",
        _FRUIT_PRACTICES,
        unit_weight_kg="1.5",
        min_order="2",
    ),
    "buoi_nam_roi": Produce(
        "Bưởi Năm Roi",
        202,
        "kg",
        "pomelo",
        "Bưởi Năm Roi vỏ mỏng, ruột trắng xanh, mọng nước, ngọt dịu chua nhẹ, ít hạt.",
        _FRUIT_PRACTICES,
        min_order="3",
    ),
    "xoai": Produce(
        "Xoài cát Hòa Lộc",
        205,
        "kg",
        "mango",
        "Xoài cát Hòa Lộc bao trái từ nhỏ, chín cây, thịt vàng mịn, ngọt đậm, thơm. Trái 400–600 g.",
        _FRUIT_PRACTICES,
    ),
    "dua_xiem": Produce(
        "Dừa xiêm xanh",
        206,
        "trai",
        "coconut",
        "Dừa xiêm xanh 7–8 tháng tuổi, nước ngọt thanh, cơm mỏng. Để nguyên trái hoặc gọt sẵn.",
        unit_weight_kg="1.2",
        min_order="5",
    ),
    "dua_luoi": Produce(
        "Dưa lưới nhà màng",
        207,
        "kg",
        "melon",
        "Trồng trong nhà màng, tưới nhỏ giọt; ruột cam, giòn, ngọt 14–16 độ Brix. Trái 1,5–2 kg.",
        "Trồng trên giá thể xơ dừa trong nhà màng; tưới nhỏ giọt theo lịch; không phun thuốc "
        "15 ngày trước thu hoạch.",
        min_order="2",
    ),
    "cam_sanh": Produce(
        "Cam sành",
        208,
        "kg",
        "orange",
        "Cam sành vỏ xanh sần, múi vàng cam, nhiều nước, vị ngọt chua; hợp vắt nước.",
        _FRUIT_PRACTICES,
        min_order="2",
    ),
    "quyt_duong": Produce(
        "Quýt đường",
        208,
        "kg",
        "mandarin",
        "Quýt đường vỏ mỏng, dễ lột, múi ngọt thơm, ít hạt.",
        _FRUIT_PRACTICES,
    ),
    "nhan": Produce(
        "Nhãn Ido",
        209,
        "kg",
        "longan",
        "Nhãn Ido cơm dày, ráo, giòn, ngọt; cắt theo chùm.",
        _FRUIT_PRACTICES,
    ),
    "khom": Produce(
        "Khóm Cầu Đúc",
        299,
        "trai",
        "pineapple",
        "Khóm Queen đặc sản Vị Thanh trồng trên đất phèn: trái nhỏ, mắt lồi, ruột vàng, ngọt đậm, "
        "thơm. Trái 0,8–1,2 kg.",
        "Trồng trên liếp đất phèn, bón phân hữu cơ; xử lý ra hoa đồng loạt; thu hoạch khi trái "
        "chuyển vàng một phần ba.",
        unit_weight_kg="1.0",
        min_order="5",
    ),
    "chuoi": Produce(
        "Chuối xiêm",
        299,
        "kg",
        "banana",
        "Chuối xiêm chín cây, ngọt, dẻo; ăn tươi, nấu chè hoặc làm chuối sấy.",
        min_order="2",
    ),
    "mia": Produce(
        "Mía tím Cù Lao Dung",
        299,
        "bo",
        "sugarcane",
        "Mía tím cù lao giữa sông Hậu, thân mềm, nhiều nước, ngọt thanh; bó 3 cây (khoảng 5 kg).",
        unit_weight_kg="5",
    ),
    # Vegetables
    "rau_muong": Produce(
        "Rau muống",
        301,
        "bo",
        "leafy",
        "Rau muống nước cọng giòn, hái buổi sáng, bó 500 g.",
        "Trồng trên ruộng nước sạch, bón phân hữu cơ; không dùng thuốc kích thích; "
        "hái trong buổi sáng, rửa sạch bằng nước giếng khoan.",
        unit_weight_kg="0.5",
        min_order="2",
    ),
    "cai_xanh": Produce(
        "Cải xanh",
        301,
        "kg",
        "leafy",
        "Cải xanh trồng trong nhà lưới, lá non, vị cay nhẹ; nấu canh hoặc muối dưa.",
    ),
    "ngo_gai": Produce(
        "Ngò gai",
        303,
        "bo",
        "leafy",
        "Ngò gai thơm nồng, lá to, bó 200 g; ăn kèm phở, canh chua.",
        unit_weight_kg="0.2",
        min_order="2",
    ),
    "nam_rom": Produce(
        "Nấm rơm",
        304,
        "kg",
        "mushroom",
        "Nấm rơm trồng trên rơm rạ sau vụ lúa, hái búp non mỗi sáng, giao trong ngày.",
    ),
    "hanh_tim": Produce(
        "Hành tím Vĩnh Châu",
        302,
        "kg",
        "shallot",
        "Hành tím Vĩnh Châu củ chắc, vỏ tím bóng, thơm cay nồng; đã phơi khô, cắt sạch rễ.",
        "Trồng trên đất giồng cát; bón phân chuồng và tro trấu; tưới bằng nước giếng; phơi "
        "khô 7 ngày trong bóng râm trước khi bán.",
        min_order="2",
    ),
    "cu_cai": Produce(
        "Củ cải trắng",
        302,
        "kg",
        "radish",
        "Củ cải trắng trồng trên đất giồng cát, củ dài, giòn ngọt; nấu canh hoặc làm củ cải muối.",
        min_order="2",
    ),
    "ot": Produce(
        "Ớt chỉ thiên",
        302,
        "kg",
        "chili",
        "Ớt chỉ thiên trái đỏ tươi, cay nồng, hái chín cây.",
    ),
    "bi_do": Produce(
        "Bí đỏ",
        302,
        "kg",
        "pumpkin",
        "Bí đỏ dẻo, ruột vàng đậm; nấu canh, nấu chè hoặc hầm xương.",
        min_order="2",
    ),
    "khoai_lang": Produce(
        "Khoai lang tím Nhật",
        302,
        "kg",
        "roots",
        "Khoai lang tím Nhật ruột tím, bở, ngọt bùi; luộc, nướng hoặc làm bánh.",
        min_order="2",
    ),
    # Fish and seafood
    "ca_tra": Produce(
        "Cá tra",
        401,
        "kg",
        "pangasius",
        "Cá tra nuôi ao đất ven sông Hậu, thịt trắng, cỡ 0,8–1,2 kg/con; làm sạch theo yêu cầu.",
        _FISH_PRACTICES,
        min_order="5",
    ),
    "ca_loc": Produce(
        "Cá lóc nuôi",
        401,
        "kg",
        "snakehead",
        "Cá lóc nuôi vèo trên sông, thịt chắc, ngọt; cỡ 3–4 con/kg, giao còn sống.",
        _FISH_PRACTICES,
        min_order="2",
    ),
    "ca_ro": Produce(
        "Cá rô đầu vuông",
        401,
        "kg",
        "snakehead",
        "Cá rô đầu vuông thịt dày, béo; kho tộ hoặc nấu canh chua đều ngon.",
        _FISH_PRACTICES,
        min_order="2",
    ),
    "tom_cang": Produce(
        "Tôm càng xanh",
        402,
        "kg",
        "shrimp",
        "Tôm càng xanh nuôi trên ruộng lúa, giao còn sống, cỡ 15–20 con/kg.",
        _FISH_PRACTICES,
    ),
    "luon": Produce(
        "Lươn nuôi",
        499,
        "kg",
        "eel",
        "Lươn nuôi bồn không bùn, thịt dai, ngọt; cỡ 6–8 con/kg, giao còn sống.",
        _FISH_PRACTICES,
    ),
    # Livestock and poultry
    "ga_ta": Produce(
        "Gà ta thả vườn",
        501,
        "con",
        "chicken",
        "Gà ta nuôi thả vườn trên 5 tháng, ăn lúa và bắp, thịt săn chắc; con 1,6–2 kg, "
        "làm sạch theo yêu cầu.",
        unit_weight_kg="1.8",
    ),
    "vit_xiem": Produce(
        "Vịt xiêm",
        502,
        "con",
        "duck",
        "Vịt xiêm nuôi thả đồng, nhiều nạc; con 2–3 kg.",
        unit_weight_kg="2.5",
    ),
    "trung_ga": Produce(
        "Trứng gà ta",
        504,
        "chuc",
        "chicken_eggs",
        "Trứng gà ta nhặt trong ngày, lòng đỏ đậm; 1 chục = 10 trứng.",
        unit_weight_kg="0.55",
    ),
    "trung_vit": Produce(
        "Trứng vịt",
        504,
        "chuc",
        "duck_eggs",
        "Trứng vịt chạy đồng, vỏ xanh nhạt, to đều; 1 chục = 10 trứng.",
        unit_weight_kg="0.7",
        min_order="2",
    ),
    # Processed products and OCOP
    "mat_ong": Produce(
        "Mật ong hoa tràm",
        603,
        "hop",
        "honey",
        "Mật ong khai thác từ rừng tràm, sánh, màu hổ phách, thơm nhẹ; hũ thủy tinh 500 ml.",
        unit_weight_kg="0.75",
    ),
    "mam_ca_linh": Produce(
        "Mắm cá linh",
        602,
        "hop",
        "fish_sauce",
        "Mắm cá linh mùa nước nổi, ủ chượp 3 tháng với muối và đường thốt nốt; hũ 500 g.",
        unit_weight_kg="0.6",
    ),
    "kho_ca_loc": Produce(
        "Khô cá lóc",
        602,
        "kg",
        "dried_fish",
        "Cá lóc đồng làm sạch, ướp muối nhạt, phơi nắng 2 ngày; 4–5 con/kg.",
        min_order="0.5",
    ),
    "banh_pia": Produce(
        "Bánh pía sầu riêng trứng muối",
        601,
        "hop",
        "cakes",
        "Bánh pía Sóc Trăng nhân sầu riêng, đậu xanh và trứng muối; hộp 4 cái, 500 g. Dùng trong 30 ngày.",
        unit_weight_kg="0.5",
    ),
    "lap_xuong": Produce(
        "Lạp xưởng tươi",
        699,
        "kg",
        "sausage",
        "Lạp xưởng tươi làm từ thịt heo nạc và mỡ phần, ướp rượu mai quế lộ, phơi nắng nhẹ.",
        min_order="0.5",
    ),
    "banh_trang": Produce(
        "Bánh tráng Thuận Hưng",
        601,
        "tui",
        "rice_paper",
        "Bánh tráng làng nghề Thuận Hưng tráng tay, phơi nắng; nhúng nước cuốn gỏi không rách. Túi 500 g.",
        unit_weight_kg="0.5",
    ),
    "banh_trang_me": Produce(
        "Bánh tráng mè nướng",
        601,
        "tui",
        "rice_paper",
        "Bánh tráng mè đen nướng than, giòn thơm; túi 10 cái.",
        unit_weight_kg="0.3",
    ),
    "hu_tieu": Produce(
        "Hủ tiếu khô Cái Răng",
        699,
        "tui",
        "noodles",
        "Hủ tiếu làm từ gạo ngon, tráng và phơi thủ công, sợi dai, không chất tẩy trắng; túi 500 g.",
        unit_weight_kg="0.5",
    ),
    "hu_tieu_tuoi": Produce(
        "Hủ tiếu tươi",
        699,
        "kg",
        "noodles",
        "Hủ tiếu sợi tươi làm trong ngày, giao sáng sớm cho quán ăn.",
        min_order="2",
    ),
}


@dataclass(frozen=True)
class Listing:
    """One listing of a household. Days are counted from today (negative: in the past)."""

    produce: str
    price: int
    stock: str
    name: str = ""
    unit: str = ""  # a weight unit instead of the produce's own (rice by the yến or tạ)
    harvest: int | None = -2
    available_from: int | None = None
    keeps: int | None = None  # days it stays on sale after the harvest (available_until)
    status: str = "active"
    photos: int = 1
    lot: bool = False


@dataclass(frozen=True)
class Cert:
    """A certificate and what becomes of it: verified, pending, rejected or expired."""

    kind: str
    number: str
    issuer: str
    issued_ago: int
    valid_left: int
    state: str = "verified"
    stars: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Household:
    phone: str
    name: str
    representative: str
    born: int
    female: bool
    ward: str  # the full name, "Xã Nhơn Ái"
    address: str
    area_m2: int
    main_crops: str
    cooperative: str = ""
    listings: tuple[Listing, ...] = ()
    certifications: tuple[Cert, ...] = ()
    status: str = FarmStatus.VERIFIED
    reason: str = ""


VIETGAP_ISSUER = "Trung tâm Chứng nhận Phù hợp (QUACERT)"
VINACERT = "Công ty CP Chứng nhận và Giám định VinaCert"
CAN_THO = "UBND thành phố Cần Thơ"
L = Listing

HOUSEHOLDS: tuple[Household, ...] = (
    # The demo farmer account (load_demo's DEMO_ACCOUNTS): a dashboard with something in it.
    Household(
        "0901000002",
        "Vườn trái cây Ba Hùng",
        "Trần Văn Hùng",
        1970,
        False,
        "Xã Nhơn Ái",
        "Số 42, ấp Nhơn Lộc 1",
        10500,
        "Măng cụt, chôm chôm, sầu riêng Ri6, dâu Hạ Châu",
        "HTX Trái cây Nhơn Ái",
        (
            L("mangcut", 48000, "220", photos=2, lot=True, keeps=20),
            L("chomchom", 47000, "130", harvest=-1),
            L(
                "ri6",
                80000,
                "150",
                name="Sầu riêng Ri6 – đặt trước vụ mới",
                harvest=35,
                available_from=35,
                keeps=25,
                photos=2,
            ),
            L("dau_ha_chau", 38000, "40", status="draft"),
        ),
        # Expires within 30 days: the dashboard shows the renewal notice.
        (Cert("vietgap", "VietGAP-TT-18-03-92-0102", VIETGAP_ISSUER, 1075, 20),),
    ),
    Household(
        "0901100001",
        "Vườn măng cụt Út Hiền",
        "Lê Thị Hiền",
        1974,
        True,
        "Xã Phong Điền",
        "Số 118, ấp Nhơn Lộc",
        8500,
        "Măng cụt, chôm chôm",
        "HTX Nông nghiệp Phong Điền",
        (
            L("mangcut", 49000, "350", photos=2, lot=True, keeps=15),
            L("chomchom", 46000, "200", harvest=-1),
            L(
                "mangcut",
                47000,
                "500",
                name="Măng cụt Phong Điền – đặt trước vụ mới",
                harvest=21,
                available_from=21,
                keeps=30,
            ),
        ),
        (Cert("vietgap", "VietGAP-TT-18-03-92-0147", VIETGAP_ISSUER, 400, 695),),
    ),
    Household(
        "0901100002",
        "Hộ ông Nguyễn Văn Tư",
        "Nguyễn Văn Tư",
        1961,
        False,
        "Xã Nhơn Ái",
        "Ấp Nhơn Thọ 1",
        12000,
        "Sầu riêng Ri6, măng cụt, chôm chôm",
        "HTX Trái cây Nhơn Ái",
        (
            L("ri6", 78000, "400", photos=2, lot=True, harvest=-3),
            L("mangcut", 47000, "150"),
            L("chomchom", 45000, "0", harvest=-9),  # sold out
        ),
        (Cert("globalgap", "GGN 4063061912345", "Control Union Việt Nam", 200, 165),),
    ),
    Household(
        "0901100003",
        "Vườn dâu Hạ Châu Sáu Lực",
        "Phạm Văn Lực",
        1966,
        False,
        "Xã Nhơn Ái",
        "Ấp Nhơn Lộc 2",
        6000,
        "Dâu Hạ Châu, măng cụt",
        listings=(
            L("dau_ha_chau", 35000, "180", photos=2, lot=True, harvest=-1),
            L("dau_ha_chau", 40000, "60", name="Dâu Hạ Châu loại 1 (chùm to)", photos=2),
            L("mangcut", 46000, "80", harvest=-4, status="paused"),
        ),
    ),
    Household(
        "0901100004",
        "Hộ bà Trần Thị Mỹ Lệ",
        "Trần Thị Mỹ Lệ",
        1980,
        True,
        "Xã Trường Long",
        "Ấp Trường Thọ",
        9500,
        "Chôm chôm Thái, sầu riêng Ri6, nhãn",
        listings=(
            L("chomchom", 48000, "300", photos=2, lot=True),
            L("ri6", 65000, "250", harvest=-5),
            L("nhan", 25000, "120"),
        ),
        # Waiting in the official's queue.
        certifications=(Cert("vietgap", "VietGAP-TT-18-03-92-0388", VIETGAP_ISSUER, 20, 1075, "pending"),),
    ),
    Household(
        "0901100005",
        "Vườn trái cây Mười Thành",
        "Võ Văn Thành",
        1958,
        False,
        "Phường An Bình",
        "Khu vực Mỹ Ái",
        7000,
        "Xoài cát Hòa Lộc, cam sành, quýt đường",
        listings=(
            L("xoai", 45000, "150", photos=2, harvest=-3),
            L("cam_sanh", 18000, "400"),
            L("quyt_duong", 32000, "100"),
            L("buoi_da_xanh", 30000, "300", name="Bưởi da xanh (bán ký)", unit="kg", harvest=-3),
        ),
    ),
    Household(
        "0901100006",
        "Hộ ông Huỳnh Văn Bảy",
        "Huỳnh Văn Bảy",
        1963,
        False,
        "Xã Cờ Đỏ",
        "Ấp Thới Hòa",
        35000,
        "Lúa ST25, nếp",
        "HTX Lúa gạo Cờ Đỏ",
        (
            L("st25", 32000, "2000", photos=2, lot=True, harvest=-20),
            L("st25", 320000, "150", name="Gạo ST25 (bao 10 kg)", unit="yen", harvest=-20),
            L("nep", 28000, "500", harvest=-20),
        ),
        (
            Cert(
                "vietgap",
                "VietGAP-TT-19-05-92-0311",
                "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Cần Thơ",
                300,
                795,
            ),
        ),
    ),
    Household(
        "0901100007",
        "Hộ ông Đặng Văn Hai",
        "Đặng Văn Hai",
        1970,
        False,
        "Xã Thới Lai",
        "Ấp Thới Thuận",
        28000,
        "Lúa ST25, lúa Jasmine",
        listings=(
            L("st25", 29000, "800", photos=2, lot=True, harvest=-25),
            L("st25", 2600000, "40", name="Gạo ST25 (mua sỉ theo tạ)", unit="ta", harvest=-25),
            L("jasmine", 18000, "1500", harvest=-25),
        ),
    ),
    Household(
        "0901100008",
        "Ruộng lúa sạch Cô Ba Nhung",
        "Nguyễn Thị Nhung",
        1977,
        True,
        "Xã Vĩnh Thạnh",
        "Ấp Qui Long",
        40000,
        "Lúa ST25 hữu cơ, lúa Một Bụi Đỏ, vịt đẻ",
        "HTX Nông nghiệp Vĩnh Thạnh",
        (
            L("st25", 39000, "600", name="Gạo ST25 hữu cơ", photos=2, lot=True, harvest=-15),
            L("mot_bui_do", 30000, "300", harvest=-40),
            L("trung_vit", 32000, "200", harvest=0),
            L("mam_ca_linh", 65000, "80", harvest=None),
        ),
        (Cert("organic", "HC-0921/2024", VINACERT, 380, 350),),
    ),
    Household(
        "0901100009",
        "Hộ ông Lý Văn Quang",
        "Lý Văn Quang",
        1969,
        False,
        "Xã Nhu Gia",
        "Ấp Phước Hòa",
        30000,
        "Lúa ST25 luân canh tôm",
        "HTX Lúa – tôm Nhu Gia",
        (
            L("st25_shrimp", 38000, "900", photos=2, lot=True, harvest=-18),
            L("st25", 34000, "700", harvest=-18),
            L("tom_cang", 190000, "40", harvest=0),
        ),
        (
            Cert(
                "ocop",
                "Số 254/QĐ-BNN-KTHT",
                "Bộ Nông nghiệp và Phát triển nông thôn",
                500,
                595,
                stars=5,
            ),
        ),
    ),
    Household(
        "0901100010",
        "Hộ ông Trần Văn Út",
        "Trần Văn Út",
        1975,
        False,
        "Xã Trần Đề",
        "Ấp Chợ",
        20000,
        "Lúa ST25, hành tím",
        listings=(
            L("st25", 24000, "1200", harvest=-60, photos=2),
            L("hanh_tim", 42000, "200", harvest=-10),
        ),
    ),
    Household(
        "0901100011",
        "Hộ nuôi cá tra Năm Phúc",
        "Nguyễn Văn Phúc",
        1972,
        False,
        "Phường Tân Lộc",
        "Khu vực Tân Phước",
        15000,
        "Cá tra, cá lóc, tôm càng xanh",
        listings=(
            L("ca_tra", 27000, "3000", photos=2, lot=True, harvest=-1),
            L("ca_loc", 52000, "300", harvest=-1),
            L("tom_cang", 210000, "60", harvest=0),
        ),
        certifications=(Cert("globalgap", "GGN 4063061987654", "SGS Việt Nam", 150, 215),),
    ),
    Household(
        "0901100012",
        "Hộ ông Lê Văn Được",
        "Lê Văn Được",
        1968,
        False,
        "Phường Thới Long",
        "Khu vực Thới Phong",
        10000,
        "Cá tra, cá lóc, khô cá",
        listings=(
            L("ca_tra", 24000, "2500", photos=2, harvest=-2),
            L("ca_loc", 50000, "400", lot=True, harvest=-2),
            L("kho_ca_loc", 320000, "30", harvest=-12),
        ),
    ),
    Household(
        "0901100013",
        "Trang trại cá Bảy Tốt",
        "Trương Văn Tốt",
        1979,
        False,
        "Phường Ô Môn",
        "Khu vực Thới Hòa 1",
        20000,
        "Cá tra, lươn, cá rô",
        listings=(
            L("ca_tra", 31000, "1800", photos=2, lot=True, harvest=-3),
            L("luon", 135000, "80", harvest=-1),
            L("ca_ro", 45000, "200", harvest=-1),
        ),
    ),
    Household(
        "0901100014",
        "Cơ sở bánh tráng Út Thu",
        "Phan Thị Thu",
        1976,
        True,
        "Phường Thuận Hưng",
        "Khu vực Thuận Hòa",
        800,
        "Bánh tráng, trứng gà",
        listings=(
            L("banh_trang", 28000, "300", photos=2, harvest=None),
            L("banh_trang_me", 35000, "150", harvest=None),
            L("trung_ga", 38000, "100", harvest=0),
        ),
        certifications=(Cert("ocop", "Số 1875/QĐ-UBND", CAN_THO, 420, 675, stars=3),),
    ),
    Household(
        "0901100015",
        "Cơ sở hủ tiếu Sáu Tường",
        "Lâm Văn Tường",
        1960,
        False,
        "Phường Cái Răng",
        "Khu vực Thạnh Mỹ",
        1200,
        "Hủ tiếu khô, hủ tiếu tươi",
        listings=(
            L("hu_tieu", 26000, "400", photos=2, harvest=None),
            L("hu_tieu_tuoi", 18000, "100", harvest=None),
        ),
        certifications=(Cert("ocop", "Số 2406/QĐ-UBND", CAN_THO, 250, 845, stars=4),),
    ),
    Household(
        "0901100016",
        "Vườn rau sạch Hưng Phú",
        "Đỗ Thị Hạnh",
        1985,
        True,
        "Phường Hưng Phú",
        "Khu vực Phú Thạnh",
        3000,
        "Rau ăn lá, rau gia vị, nấm rơm",
        "HTX Rau an toàn Hưng Phú",
        (
            L("rau_muong", 6000, "200", photos=2, harvest=0, lot=True),
            L("cai_xanh", 15000, "150", harvest=0),
            L("ngo_gai", 4000, "100", harvest=0),
            L("nam_rom", 85000, "30", harvest=0),
        ),
        (
            Cert("vietgap", "VietGAP-TT-18-03-92-0420", VIETGAP_ISSUER, 150, 945),
            Cert(
                "organic",
                "HC-1107/2025",
                VINACERT,
                40,
                1055,
                "rejected",
                reason="Ảnh giấy chứng nhận bị mờ, không đọc được số và ngày cấp. Vui lòng chụp lại rõ nét.",
            ),
        ),
    ),
    Household(
        "0901100017",
        "Vườn khóm Cầu Đúc Tám Sơn",
        "Nguyễn Văn Sơn",
        1964,
        False,
        "Xã Hoả Lựu",
        "Ấp Thạnh Hòa",
        15000,
        "Khóm Cầu Đúc, chuối xiêm",
        listings=(
            L("khom", 12000, "800", photos=2, lot=True, harvest=-2),
            L("khom", 8000, "0", name="Khóm Cầu Đúc loại 2 (trái nhỏ)", harvest=-6),  # sold out
            L("chuoi", 12000, "300"),
        ),
        certifications=(Cert("ocop", "Số 1532/QĐ-UBND", "UBND tỉnh Hậu Giang", 600, 495, stars=3),),
    ),
    Household(
        "0901100018",
        "Hộ ông Dương Văn Lâm",
        "Dương Văn Lâm",
        1962,
        False,
        "Xã Đông Phước",
        "Ấp Phước Thạnh",
        11000,
        "Bưởi da xanh, bưởi Năm Roi, dừa xiêm",
        "HTX Bưởi Cái Tắc",
        (
            L("buoi_da_xanh", 45000, "500", photos=2, lot=True, harvest=-4),
            L("buoi_nam_roi", 22000, "600", harvest=-4),
            L("dua_xiem", 9000, "400", harvest=-1),
        ),
    ),
    Household(
        "0901100019",
        "Trang trại gà thả vườn Bảy Nhi",
        "Trần Thị Nhi",
        1982,
        True,
        "Xã Vị Thuỷ",
        "Ấp 7",
        5000,
        "Gà ta, vịt xiêm, trứng gà",
        listings=(
            L("ga_ta", 190000, "120", photos=2, harvest=None),
            L("vit_xiem", 220000, "60", harvest=None),
            L("trung_ga", 40000, "150", harvest=0),
        ),
    ),
    Household(
        "0901100020",
        "Hộ bà Lý Thị Kim Phượng",
        "Lý Thị Kim Phượng",
        1978,
        True,
        "Phường Vĩnh Châu",
        "Khóm Soài Côn",
        9000,
        "Hành tím, củ cải trắng, ớt",
        "HTX Hành tím Vĩnh Châu",
        (
            L("hanh_tim", 40000, "700", photos=2, lot=True, harvest=-8),
            L("cu_cai", 9000, "500", harvest=-1),
            L("ot", 35000, "80", status="paused"),
        ),
        (Cert("vietgap", "VietGAP-TT-21-02-94-0056", VIETGAP_ISSUER, 220, 510),),
    ),
    Household(
        "0901100021",
        "Cơ sở bánh pía Tư Hòa",
        "Quách Văn Hòa",
        1966,
        False,
        "Phường Phú Lợi",
        "Số 45, khóm 3",
        400,
        "Bánh pía, lạp xưởng",
        listings=(
            L("banh_pia", 75000, "300", photos=2, harvest=None),
            L("lap_xuong", 190000, "50", harvest=None),
            L("banh_pia", 60000, "100", name="Bánh pía kim sa (hộp 4 cái)", harvest=None, status="draft"),
        ),
        certifications=(Cert("ocop", "Số 3011/QĐ-UBND", "UBND tỉnh Sóc Trăng", 700, 395, stars=4),),
    ),
    Household(
        "0901100022",
        "Vườn sầu riêng Chín Đức",
        "Trịnh Văn Đức",
        1971,
        False,
        "Xã Cù Lao Dung",
        "Ấp An Phú",
        14000,
        "Sầu riêng Ri6, sầu riêng Monthong, mía tím",
        listings=(
            L("ri6", 72000, "500", photos=2, lot=True, harvest=-2),
            L("monthong", 85000, "200", harvest=-2),
            L("mia", 30000, "100", harvest=-3),
        ),
        # Three years old, expires today: verified, then swept into "expired" (see `_expire`).
        certifications=(Cert("vietgap", "VietGAP-TT-15-06-94-0019", VIETGAP_ISSUER, 1095, 0, "expired"),),
    ),
    Household(
        "0901100023",
        "Hộ ông Tô Văn Nghĩa",
        "Tô Văn Nghĩa",
        1965,
        False,
        "Xã Kế Sách",
        "Ấp An Khương",
        16000,
        "Bưởi Năm Roi, dừa xiêm, nuôi ong",
        listings=(
            L("mat_ong", 160000, "90", photos=2, harvest=None),
            L("buoi_nam_roi", 20000, "800", harvest=-2),
            L("dua_xiem", 8000, "600", harvest=-1),
            L("bi_do", 10000, "300", harvest=-5),
        ),
    ),
    Household(
        "0901100024",
        "Hộ bà Nguyễn Thị Bé Tư",
        "Nguyễn Thị Bé Tư",
        1983,
        True,
        "Xã Thới Hưng",
        "Ấp Thới Phước A",
        4500,
        "Dưa lưới nhà màng, khoai lang",
        listings=(
            L("dua_luoi", 40000, "250", photos=2, lot=True, harvest=-1),
            L("khoai_lang", 15000, "400", harvest=-7),
        ),
    ),
    # Waiting for verification: work for the demo official.
    Household(
        "0901100101",
        "Hộ ông Võ Văn Chín",
        "Võ Văn Chín",
        1959,
        False,
        "Xã Trường Xuân",
        "Ấp Trường Ninh",
        25000,
        "Lúa ST25",
        status=FarmStatus.PENDING,
    ),
    Household(
        "0901100102",
        "Vườn bưởi Hai Lành",
        "Nguyễn Thị Lành",
        1973,
        True,
        "Xã Phong Nẫm",
        "Ấp Phong Hòa",
        6000,
        "Bưởi Năm Roi, chôm chôm",
        status=FarmStatus.PENDING,
    ),
    Household(
        "0901100103",
        "Hộ bà Nguyễn Thị Diễm",
        "Nguyễn Thị Diễm",
        1988,
        True,
        "Phường Long Tuyền",
        "Khu vực Long Thạnh",
        2500,
        "Rau muống, cải xanh, hành lá",
        status=FarmStatus.PENDING,
    ),
    Household(
        "0901100104",
        "Hộ ông Trương Văn Lợi",
        "Trương Văn Lợi",
        1967,
        False,
        "Xã Thạnh Phú",
        "Thạnh Phú",
        18000,
        "Lúa",
        status=FarmStatus.REJECTED,
        reason="Địa chỉ chưa rõ: ghi số nhà và tên ấp, rồi gửi lại để xét duyệt.",
    ),
)


def demo_phones() -> list[str]:
    """Return the canonical phone numbers of every demo household's owner."""
    return [normalize_phone(household.phone) for household in HOUSEHOLDS]


def demo_cccd(household: Household) -> str:
    """Return a valid, distinct citizen ID: Cần Thơ (092), sex and year of birth, a serial."""
    serial = (int(household.phone[-6:]) * 7919 + 4321) % 1_000_000  # one-to-one on the last six digits
    return f"092{1 if household.female else 0}{household.born % 100:02d}{serial:06d}"


@dataclass
class DemoSummary:
    built: int
    verified: int
    waiting: int
    wards: int
    listings: int
    photos: int
    certifications: int
    lots: int

    def line(self) -> str:
        return (
            f"Demo farms: {self.verified} verified households in {self.wards} wards, {self.waiting} pending "
            f"or rejected; {self.listings} listings, {self.photos} photos, {self.certifications} "
            f"certifications, {self.lots} harvest lots ({self.built} households built now)."
        )


def demo_farms_load(*, official: User, password: str) -> DemoSummary:
    """Build every demo household that does not exist yet; return what the demo holds."""
    wards = _WardPicker()
    password_hash = None
    built = 0
    for index, household in enumerate(HOUSEHOLDS):
        phone = normalize_phone(household.phone)
        user = User.objects.filter(phone=phone).first()
        if user is not None and (user.role != Role.FARMER or Farm.objects.filter(owner=user).exists()):
            continue  # built before (or the number belongs to someone else): leave it alone
        if user is None and password_hash is None:
            # One PBKDF2 hash for every demo farmer: hashing the shared, published demo password
            # once per account would take a third of load_demo's time.
            password_hash = make_password(password)
        with transaction.atomic():
            _build(
                household,
                user=user,
                password_hash=password_hash,
                official=official,
                ward=wards(household.ward, index),
            )
        built += 1
        if any(cert.state == "expired" for cert in household.certifications):
            _expire()
    return demo_summary(built=built)


def demo_summary(*, built: int = 0) -> DemoSummary:
    farms = Farm.objects.filter(owner__phone__in=demo_phones())
    verified = farms.filter(status=FarmStatus.VERIFIED)
    products = Product.objects.filter(farm__in=farms)
    return DemoSummary(
        built=built,
        verified=verified.count(),
        waiting=farms.exclude(status=FarmStatus.VERIFIED).count(),
        wards=verified.values("ward").distinct().count(),
        listings=products.count(),
        photos=ProductImage.objects.filter(product__in=products).count(),
        certifications=Certification.objects.filter(farm__in=farms).count(),
        lots=HarvestLot.objects.filter(farm__in=farms).count(),
    )


class _WardPicker:
    """Find wards by full name, accents or not; fall back to any ward, deterministically."""

    def __init__(self):
        self.wards = list(Ward.objects.order_by("code"))
        self.by_name = {fold(ward.full_name): ward for ward in self.wards}

    def __call__(self, full_name: str, index: int) -> Ward:
        return self.by_name.get(fold(full_name)) or self.wards[index % len(self.wards)]


def _build(household: Household, *, user, password_hash, official, ward: Ward) -> Farm:
    if user is None:
        user = user_create(
            phone=household.phone,
            password=None,
            full_name=household.representative,
            role=Role.FARMER,
            privacy_consent=True,
        )
        user.password = password_hash
        user.save(update_fields=["password"])
    farm = services.farm_register(
        owner=user,
        name=household.name,
        representative_name=household.representative,
        phone=household.phone,
        ward=ward,
        address=household.address,
        area_m2=household.area_m2,
        main_crops=household.main_crops,
        cooperative=household.cooperative,
        cccd=demo_cccd(household),
    )
    if household.status == FarmStatus.PENDING:
        return farm
    decision = "reject" if household.status == FarmStatus.REJECTED else "approve"
    farm = services.farm_decide(farm=farm, by=official, decision=decision, reason=household.reason)
    today = timezone.localdate()
    for index, listing in enumerate(household.listings):
        _listing(farm, listing, seed=f"{household.phone}-{index}", today=today)
    for index, cert in enumerate(household.certifications):
        _certification(farm, cert, official=official, seed=f"{household.phone}-{index}", today=today)
    return farm


def _day(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)


def _listing(farm: Farm, listing: Listing, *, seed: str, today: date) -> Product:
    produce = PRODUCE[listing.produce]
    name = listing.name or produce.name
    harvest = _day(today, listing.harvest)
    until = harvest + timedelta(days=listing.keeps) if harvest and listing.keeps else None
    product = services.product_create(
        farm=farm,
        name=name,
        category=produce.category,
        description=produce.description,
        unit=listing.unit or produce.unit,
        unit_weight_kg=None if listing.unit else produce.unit_weight_kg,
        price=listing.price,
        stock=listing.stock,
        min_order="1" if listing.unit else produce.min_order,
        harvest_date=harvest,
        available_from=_day(today, listing.available_from),
        available_until=until,
        status=listing.status,
    )
    for number in range(listing.photos):
        upload = SimpleUploadedFile(
            f"{produce.photo}-{number + 1}.jpg",
            produce_photo(produce.photo, f"{seed}-{number}"),
            content_type="image/jpeg",
        )
        image = services.product_image_add(product=product, upload=upload)
        # The worker would do this after commit; the demo needs finished photos without one.
        services.product_image_process(image=image)
    if listing.lot and harvest and harvest <= today:
        lot = services.lot_create(
            farm=farm,
            product=product,
            harvest_date=harvest,
            quantity=max(product.stock, product.min_order) * 2,
            practices=produce.practices,
        )
        product = services.product_update(product=product, lot=lot)
    return product


def _certification(farm: Farm, cert: Cert, *, official, seed: str, today: date) -> Certification:
    upload = SimpleUploadedFile(
        f"{cert.kind}.jpg", certificate_image(cert.kind, seed, stars=cert.stars), content_type="image/jpeg"
    )
    certification = services.certification_create(
        farm=farm,
        kind=cert.kind,
        ocop_stars=cert.stars,
        number=cert.number,
        issuer=cert.issuer,
        issued_on=today - timedelta(days=cert.issued_ago),
        expires_on=today + timedelta(days=cert.valid_left),
        document=upload,
    )
    if cert.state in ("verified", "expired"):
        certification = services.certification_decide(
            certification=certification, by=official, decision="approve"
        )
    elif cert.state == "rejected":
        certification = services.certification_decide(
            certification=certification, by=official, decision="reject", reason=cert.reason
        )
    return certification


def _expire() -> None:
    """Run the daily expiry sweep as of tomorrow, so the certificate that ends today is expired.

    A certificate cannot be verified once expired, and statuses change only through services;
    this is the honest way to have an expired one. The sweep also sends the 30-day notices.
    """
    services.certifications_expire(today=timezone.localdate() + timedelta(days=1))
