import Foundation

/// Audio stream `language` tags (ISO 639-2, as containers write them) as BCP 47 tags and English names.
enum LanguageCodes {
    /// ISO 639-2 (bibliographic and terminology codes) -> ISO 639-1, for the common languages.
    static let twoLetter: [String: String] = [
        "ara": "ar", "ben": "bn", "bul": "bg", "cat": "ca", "ces": "cs", "cze": "cs", "chi": "zh", "zho": "zh",
        "dan": "da", "deu": "de", "ger": "de", "ell": "el", "gre": "el", "eng": "en", "est": "et", "eus": "eu",
        "baq": "eu", "fas": "fa", "per": "fa", "fin": "fi", "fil": "tl", "tgl": "tl", "fra": "fr", "fre": "fr",
        "gle": "ga", "glg": "gl", "heb": "he", "hin": "hi", "hrv": "hr", "hun": "hu", "ind": "id", "isl": "is",
        "ice": "is", "ita": "it", "jpn": "ja", "kor": "ko", "lav": "lv", "lit": "lt", "msa": "ms", "may": "ms",
        "nld": "nl", "dut": "nl", "nor": "no", "nob": "nb", "nno": "nn", "pol": "pl", "por": "pt", "ron": "ro",
        "rum": "ro", "rus": "ru", "slk": "sk", "slo": "sk", "slv": "sl", "spa": "es", "srp": "sr", "swa": "sw",
        "swe": "sv", "tam": "ta", "tel": "te", "tha": "th", "tur": "tr", "ukr": "uk", "urd": "ur", "vie": "vi",
        "cym": "cy", "wel": "cy", "afr": "af", "sqi": "sq", "alb": "sq", "hye": "hy", "arm": "hy", "kat": "ka",
        "geo": "ka", "mkd": "mk", "mac": "mk", "mar": "mr", "pan": "pa", "guj": "gu", "kan": "kn", "mal": "ml",
        "khm": "km", "lao": "lo", "mya": "my", "bur": "my", "nep": "ne", "sin": "si", "amh": "am", "hau": "ha",
        "yor": "yo", "zul": "zu", "xho": "xh", "som": "so", "kaz": "kk", "uzb": "uz", "aze": "az", "bel": "be",
        "bos": "bs", "ltz": "lb", "mlt": "mt",
    ]

    /// English names of the ISO 639-1 codes above.
    static let englishName: [String: String] = [
        "ar": "Arabic", "bn": "Bengali", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "zh": "Chinese",
        "da": "Danish", "de": "German", "el": "Greek", "en": "English", "et": "Estonian", "eu": "Basque",
        "fa": "Persian", "fi": "Finnish", "tl": "Tagalog", "fr": "French", "ga": "Irish", "gl": "Galician",
        "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic",
        "it": "Italian", "ja": "Japanese", "ko": "Korean", "lv": "Latvian", "lt": "Lithuanian", "ms": "Malay",
        "nl": "Dutch", "no": "Norwegian", "nb": "Norwegian Bokmål", "nn": "Norwegian Nynorsk", "pl": "Polish",
        "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "es": "Spanish",
        "sr": "Serbian", "sw": "Swahili", "sv": "Swedish", "ta": "Tamil", "te": "Telugu", "th": "Thai",
        "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "cy": "Welsh", "af": "Afrikaans",
        "sq": "Albanian", "hy": "Armenian", "ka": "Georgian", "mk": "Macedonian", "mr": "Marathi", "pa": "Punjabi",
        "gu": "Gujarati", "kn": "Kannada", "ml": "Malayalam", "km": "Khmer", "lo": "Lao", "my": "Burmese",
        "ne": "Nepali", "si": "Sinhala", "am": "Amharic", "ha": "Hausa", "yo": "Yoruba", "zu": "Zulu", "xh": "Xhosa",
        "so": "Somali", "kk": "Kazakh", "uz": "Uzbek", "az": "Azerbaijani", "be": "Belarusian", "bs": "Bosnian",
        "lb": "Luxembourgish", "mt": "Maltese",
    ]

    /// The BCP 47 tag of a stream's `language` tag: ISO 639-2 codes of the table become their two-letter code
    /// (`eng` -> `en`, `fre` -> `fr`); a two-letter code, or one with a region (`pt-BR`, `en_US`), passes
    /// through (language lower case, region upper case); anything else, or no tag, is `und`.
    static func bcp47(_ tag: String?) -> String {
        guard let tag = tag?.trimmingCharacters(in: .whitespaces), !tag.isEmpty else { return "und" }
        let parts = tag.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == "_" }
        let letters = { (s: Substring) in s.allSatisfy { $0.isASCII && $0.isLetter } }
        let language = parts[0].lowercased()
        guard letters(parts[0]) else { return "und" }
        if parts.count == 1 {
            if language.count == 2 { return language }
            return twoLetter[language] ?? "und"
        }
        guard parts.count == 2, language.count == 2, parts[1].count == 2, letters(parts[1]) else { return "und" }
        return language + "-" + parts[1].uppercased()
    }

    /// The English name of a BCP 47 tag's language (`en-GB` -> `English`), nil when the table lacks it or for `und`.
    static func name(of bcp47: String) -> String? {
        englishName[String(bcp47.prefix { $0 != "-" })]
    }
}
