"""The legal basis of the evaluation, as data (``config.yaml``'s ``legal_basis`` block).

Every output that quotes or cites the law (rule texts, reports, dashboard, API, notifications, the published
dataset) takes it from here, so an amendment of the law or the addition of a state instrument is a config change,
not a code change. The default is the Ley General de Transparencia y Acceso a la Información Pública published in
the DOF on 20 March 2025 (in force since 21 March 2025), which abrogated the 2015 law whose art. 3 fr. VI held the
earlier wording; open data is now defined in art. 3 fr. VIII and open formats in fr. XII.

Public API::

    LegalBasis                  the validated block (``cfg.legal_basis``)
    lb.citation(cid)            "LGTAIP, art. 3, fr. VIII, inciso a)"  (no cid: "LGTAIP, art. 3, fr. VIII")
    lb.text(cid)                "Accesibles: Disponibles para la mayor cantidad de personas usuarias posibles, …"
    lb.quote(cid)               citation + «text»
    lb.full_citation()          the law's full name, publication and the article/fraction defining open data
    lb.open_formats_citation()  "LGTAIP, art. 3, fr. XII"
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


class Provision(_Block):
    inciso: str = Field(description="Letra del inciso (a, b, c…).")
    text: str = Field(description="Texto del inciso tal como se publicó, empezando por el nombre de la característica.")


class DefinedTerm(_Block):
    fraction: str = Field(description="Fracción del artículo que define el término (p. ej. XII).")
    text: str = Field(description="Texto de la fracción tal como se publicó.")


class Instrument(_Block):
    name: str = Field(description="Nombre del instrumento (ley estatal, lineamientos, guía técnica…).")
    citation: str = Field(description="Artículo, fracción o apartado en que se apoya la evaluación, tal como se cita.")
    publication: str | None = Field(None, description="Medio y fecha de publicación (p. ej. «Gaceta del Gobierno, …»).")
    url: str | None = Field(None, description="Dirección del texto oficial.")


# The published text of art. 3 fr. VIII (LGTAIP, DOF 20-03-2025), inciso by inciso, keyed by rule id.
DEFAULT_CHARACTERISTICS: dict[str, tuple[str, str]] = {
    "accesibles": ("a", "Accesibles: Disponibles para la mayor cantidad de personas usuarias posibles, para "
                        "cualquier propósito"),
    "integrales": ("b", "Integrales: Contienen el tema que describen a detalle y con metadatos necesarios"),
    "gratuitos": ("c", "Gratuitos: No requieren contraprestación alguna para su acceso"),
    "no_discriminatorios": ("d", "No discriminatorios: Están disponibles para cualquier persona, sin necesidad de "
                                 "registro"),
    "oportunos": ("e", "Oportunos: Son actualizados periódicamente, conforme se generen"),
    "permanentes": ("f", "Permanentes: Se conservan en el tiempo, para lo cual, las versiones históricas relevantes "
                         "para uso público se mantendrán disponibles con identificadores adecuados al efecto"),
    "primarios": ("g", "Primarios: Provienen directamente de la fuente de origen con el mayor nivel de "
                       "desagregación posible"),
    "legibles_por_maquinas": ("h", "Legibles por máquinas: Deberán estar estructurados, total o parcialmente, para "
                                   "ser procesados e interpretados por equipos electrónicos de manera automática"),
    "formatos_abiertos": ("i", "En formatos abiertos: Estarán disponibles con el conjunto de características "
                               "técnicas y de presentación que corresponden a la estructura lógica usada para "
                               "almacenar datos en un archivo digital, cuyas especificaciones técnicas están "
                               "disponibles públicamente, que no suponen una dificultad de acceso y que su "
                               "aplicación y reproducción no estén condicionadas a contraprestación alguna"),
    "libre_uso": ("j", "De libre uso: Requieren la cita de la fuente de origen como único requisito para su uso"),
}

DEFAULT_DEFINITION = (
    "Datos Abiertos: Los datos digitales de carácter público que son accesibles en línea, que pueden ser usados, "
    "reutilizados y redistribuidos por cualquier persona interesada, los cuales tienen las siguientes características"
)

# Only the part of fr. XII that the evaluation applies is quoted (with an ellipsis), never a reconstructed text.
DEFAULT_OPEN_FORMATS = (
    "Formatos Abiertos: […] cuyas especificaciones están disponibles públicamente y que permiten el acceso sin "
    "restricción de uso por parte de las personas usuarias"
)


class LegalBasis(_Block):
    """The law and provisions the evaluation applies (default: LGTAIP 2025, art. 3 fr. VIII and XII)."""

    law: str = Field("Ley General de Transparencia y Acceso a la Información Pública",
                     description="Nombre de la ley que define los datos abiertos.")
    short_name: str = Field("LGTAIP", description="Abreviatura con que se cita la ley.")
    publication: str = Field("Diario Oficial de la Federación, 20 de marzo de 2025",
                             description="Medio y fecha de publicación de la ley vigente.")
    in_force_since: date = Field(date(2025, 3, 21), description="Fecha de entrada en vigor (AAAA-MM-DD).")
    article: str = Field("3", description="Artículo que define los datos abiertos.")
    fraction: str = Field("VIII", description="Fracción del artículo que define los datos abiertos.")
    definition: str = Field(DEFAULT_DEFINITION, description="Texto de la fracción antes de sus incisos.")
    characteristics: dict[str, Provision] = Field(
        default_factory=lambda: {cid: Provision(inciso=i, text=t) for cid, (i, t) in DEFAULT_CHARACTERISTICS.items()},
        description="Inciso y texto de cada característica, por clave de característica (una por regla registrada).",
    )
    open_formats: DefinedTerm = Field(
        default_factory=lambda: DefinedTerm(fraction="XII", text=DEFAULT_OPEN_FORMATS),
        description="Fracción que define «formatos abiertos» (criterio de la característica en formatos abiertos).",
    )
    previous_law_note: str = Field(
        "La Ley General de Transparencia y Acceso a la Información Pública publicada en el DOF el 4 de mayo de 2015 "
        "(que definía los datos abiertos en su art. 3, fr. VI) quedó abrogada por la ley publicada el 20 de marzo "
        "de 2025 (transitorio segundo), vigente desde el 21 de marzo de 2025.",
        description="Nota sobre la ley anterior, para leer correctamente evaluaciones de años previos.",
    )
    additional_instruments: list[Instrument] = Field(
        default_factory=list,
        description="Otros instrumentos en que se apoya la evaluación (ley estatal, lineamientos), citados tal "
        "como los configure la unidad evaluadora; ninguno por omisión.",
    )

    @model_validator(mode="after")
    def _texts_not_blank(self) -> LegalBasis:
        blank = [cid for cid, p in self.characteristics.items() if not p.text.strip() or not p.inciso.strip()]
        if blank:
            raise ValueError(f"inciso o texto vacío en: {', '.join(blank)}")
        return self

    def citation(self, characteristic: str | None = None) -> str:
        base = f"{self.short_name}, art. {self.article}, fr. {self.fraction}"
        if characteristic is None:
            return base
        return f"{base}, inciso {self.characteristics[characteristic].inciso})"

    def text(self, characteristic: str) -> str:
        return self.characteristics[characteristic].text.strip().rstrip(";.,")

    def quote(self, characteristic: str) -> str:
        return f"{self.citation(characteristic)}: «{self.text(characteristic)}»"

    def open_formats_citation(self) -> str:
        return f"{self.short_name}, art. {self.article}, fr. {self.open_formats.fraction}"

    def full_citation(self) -> str:
        # no parentheses: outputs often quote it inside their own
        return f"{self.law}, {self.publication}, artículo {self.article}, fracción {self.fraction}"

    def instruments_es(self) -> list[str]:
        """Each additional instrument as one citation line ("name, citation (publication)")."""
        lines = []
        for ins in self.additional_instruments:
            pub = f" ({ins.publication})" if ins.publication else ""
            lines.append(f"{ins.name}, {ins.citation}{pub}")
        return lines


DEFAULT_LEGAL_BASIS = LegalBasis()
