import Testing
@testable import WatchFolder

/// Which files beside a video are its sidecars, and which language tags are well-formed BCP 47.
@Suite struct SidecarNameTests {
    @Test func aVideosSidecarsAreItsStemWithJsonSrtOrVtt() {
        #expect(SidecarName.match("clip.json", stem: "clip")! == ("json", nil))
        #expect(SidecarName.match("clip.SRT", stem: "clip")! == ("srt", nil))
        #expect(SidecarName.match("clip.en.vtt", stem: "clip")! == ("vtt", "en"))
        #expect(SidecarName.match("clip.pt-BR.srt", stem: "clip")! == ("srt", "pt-BR"))
        #expect(SidecarName.match("clip.zh-Hant-TW.vtt", stem: "clip")! == ("vtt", "zh-Hant-TW"))
        #expect(SidecarName.match("clip.es-419.srt", stem: "clip")! == ("srt", "es-419"))
        // Not this video's: another stem, a language on a json, a malformed tag, an unknown extension.
        for name in ["clipper.json", "clip2.srt", "clip.en.json", "clip.en_US.srt", "clip.e.srt", "clip.english1.srt",
                     "clip.part.2.srt", "clip.txt", "clip.", "clip.-en.srt", "clip.en-.srt", "clip..srt"] {
            #expect(SidecarName.match(name, stem: "clip") == nil, "\(name)")
        }
    }

    @Test func languageTagsAreCheckedForForm() {
        for tag in ["en", "fra", "pt-BR", "sr-Latn", "sr-Latn-RS", "de-CH-1996", "sl-rozaj", "es-419"] {
            #expect(SidecarName.isLanguageTag(tag), "\(tag)")
        }
        for tag in ["", "e", "en_US", "e1", "en-", "-en", "en--US", "toolongtag", "en-US-x", "fr/../x", "en\u{7}"] {
            #expect(!SidecarName.isLanguageTag(tag), "\(tag)")
        }
    }

    @Test func theStemIsTheNameWithoutItsLastExtension() {
        #expect(SidecarName.stem(ofVideo: "clip.mp4") == "clip")
        #expect(SidecarName.stem(ofVideo: "my.show.s01.mov") == "my.show.s01")
        #expect(SidecarName.stem(ofVideo: ".hidden") == ".hidden")
    }
}
