"""The six national free technical services (国人口发〔2009〕49号 §五(三)1), pure definitions:

「实行计划生育的流动育龄夫妻免费享有的技术服务项目包括:发放避孕药具;孕情、环情检查;放置、取出宫内节育器及技术常规所规定的
各项医学检查;人工终止妊娠术及技术常规所规定的各项医学检查;输卵管结扎术、输精管结扎术及技术常规所规定的各项医学检查;
计划生育手术并发症诊治等。」

A county adds its own items (free pre-pregnancy checks, transport and nutrition subsidies ...) in
`free_service_items`; their codes may not take a national one's.
"""

from __future__ import annotations

NATIONAL_ITEMS: dict[str, str] = {
    "contraceptive_supplies": "发放避孕药具",
    "pregnancy_iud_check": "孕情、环情检查",
    "iud_procedure": "放置、取出宫内节育器及相关医学检查",
    "abortion": "人工终止妊娠术及相关医学检查",
    "sterilisation": "输卵管结扎术、输精管结扎术及相关医学检查",
    "complication_treatment": "计划生育手术并发症诊治",
}
