import Foundation

/// The texts WhatsApp writes into exports in place of content, per language.
///
/// Comparisons are made on text with invisible marks removed, trimmed, lowercased and without a
/// trailing period. Tables cover at least English, Spanish, Portuguese, French, German and
/// Italian (issue 2); extend them here, nowhere else.
enum WhatsAppMarkers {
    /// "This message was deleted" and its kin (iOS adds a period, Android does not).
    static let deleted: Set<String> = normalizedSet([
        // en
        "This message was deleted", "You deleted this message", "This message was deleted by admin",
        // es
        "Se eliminó este mensaje", "Eliminaste este mensaje", "Este mensaje fue eliminado", "Has eliminado este mensaje",
        // pt
        "Esta mensagem foi apagada", "Você apagou esta mensagem", "Apagaste esta mensagem", "Mensagem apagada",
        // fr
        "Ce message a été supprimé", "Vous avez supprimé ce message", "Message supprimé",
        // de
        "Diese Nachricht wurde gelöscht", "Du hast diese Nachricht gelöscht", "Nachricht gelöscht",
        // it
        "Questo messaggio è stato eliminato", "Hai eliminato questo messaggio", "Messaggio eliminato",
    ])

    /// Whole-body placeholders for media left out of the export.
    static let mediaOmitted: Set<String> = normalizedSet([
        // Android, type unknown
        "<Media omitted>", "<Multimedia omitido>", "<Archivo omitido>", "<Mídia oculta>", "<Mídia omitida>",
        "<ficheiro não revelado>", "<Arquivo de mídia oculto>", "<Médias omis>", "<Fichier omis>",
        "<Medien ausgeschlossen>", "<Medien weggelassen>", "<Medien ausgelassen>", "<Media omessi>", "<Media omesso>",
        // iOS, typed
        "image omitted", "video omitted", "audio omitted", "GIF omitted", "sticker omitted", "Contact card omitted",
        "document omitted", "<image omitted>", "<video omitted>", "<audio omitted>",
        "imagen omitida", "video omitido", "audio omitido", "GIF omitido", "sticker omitido", "documento omitido",
        "Tarjeta de contacto omitida",
        "imagem ocultada", "vídeo ocultado", "áudio ocultado", "GIF ocultado", "figurinha omitida", "documento ocultado",
        "image absente", "vidéo absente", "audio omis", "GIF retiré", "autocollant omis", "document omis",
        "Bild weggelassen", "Video weggelassen", "Audio weggelassen", "GIF weggelassen", "Sticker weggelassen",
        "Dokument weggelassen", "Kontaktkarte ausgelassen",
        "immagine omessa", "video omesso", "audio omesso", "GIF omessa", "sticker omesso", "documento omesso",
    ])

    /// Suffixes of iOS document placeholders: `report.pdf • 3 pages document omitted`.
    static let mediaOmittedSuffixes: [String] = [
        "document omitted", "documento omitido", "documento ocultado", "document omis", "dokument weggelassen",
        "documento omesso",
    ]

    /// The word inside iOS `<attached: NAME>`.
    static let attachedWords: Set<String> = [
        "attached", "adjunto", "anexado", "anexo", "pièce jointe", "joint", "angehängt", "anhang", "allegato",
    ]

    /// The parenthesised words after an Android `NAME (file attached)`.
    static let fileAttachedWords: Set<String> = [
        "file attached", "archivo adjunto", "arquivo anexado", "ficheiro anexado", "fichier joint",
        "datei angehängt", "file allegato",
    ]

    /// Trailing edit notices.
    static let editedSuffixes: [String] = [
        "<This message was edited>", "<Se editó este mensaje.>", "<Este mensaje fue editado>", "<Mensagem editada>",
        "<Esta mensagem foi editada>", "<Ce message a été modifié>", "<Message modifié>",
        "<Diese Nachricht wurde bearbeitet>", "<Nachricht bearbeitet>", "<Questo messaggio è stato modificato>",
        "<Messaggio modificato>",
    ]

    /// Prefixes of system notices that iOS writes as if a participant had said them (the
    /// end-to-end encryption notice) or that Android writes without an author.
    static let systemPrefixes: [String] = [
        "messages and calls are end-to-end encrypted", "messages to this group are now secured with end-to-end encryption",
        "messages you send to this chat and calls are now secured with end-to-end encryption",
        "los mensajes y las llamadas están cifrados de extremo a extremo",
        "los mensajes que envíes a este chat y las llamadas ahora están protegidos",
        "as mensagens e as chamadas são protegidas com a criptografia de ponta a ponta",
        "as mensagens e chamadas são protegidas com a criptografia de ponta a ponta",
        "les messages et les appels sont chiffrés de bout en bout",
        "nachrichten und anrufe sind ende-zu-ende-verschlüsselt",
        "nachrichten, die du in diesem chat sendest, sowie anrufe, sind jetzt mit ende-zu-ende-verschlüsselung geschützt",
        "i messaggi e le chiamate sono crittografati end-to-end",
        "i messaggi sono crittografati end-to-end",
        "you're now an admin", "you were added", "you created group", "your security code with",
        "this message was deleted by admin",
        "disappearing messages were turned", "you turned on disappearing messages", "you turned off disappearing messages",
        "you updated the message timer",
    ]

    /// Phrases marking a system event even when they contain `": "` (subjects with colons).
    /// Phrases that, inside what looks like an author (text before the first `": "`), show that the
    /// line is really an authorless system event whose quoted text contains a colon
    /// (`Ann changed the subject from "Plan: A" to "Plan: B"`).
    static let systemInfixes: [String] = [
        " changed the subject from ", " changed the group description", " created group ",
        " changed the subject to ", " cambió el asunto de ", " creó el grupo ", " mudou o assunto de ",
        " criou o grupo ", " a modifié le sujet de ", " a créé le groupe ", " hat den betreff von ",
        " hat die gruppe ", " ha cambiato l'oggetto da ", " ha creato il gruppo ",
    ]

    static let callTexts: Set<String> = normalizedSet([
        "Missed voice call", "Missed video call", "Voice call", "Video call", "Missed group voice call",
        "Missed group video call", "Llamada perdida", "Videollamada perdida", "Chamada de voz perdida",
        "Appel vocal manqué", "Verpasster Sprachanruf", "Chiamata vocale persa",
    ])

    static func normalizedSet(_ values: [String]) -> Set<String> { Set(values.map(normalize)) }

    /// Lowercased, trimmed, invisible marks removed, one trailing period dropped.
    static func normalize<S: StringProtocol>(_ s: S) -> String {
        var t = WhatsAppText.trim(WhatsAppText.stripMarks(String(s))).lowercased()
        if t.utf8.last == UInt8(ascii: ".") { t.removeLast() }
        return t
    }
}

/// Text clean-up shared by the WhatsApp reader.
enum WhatsAppText {
    /// Removes bidi and zero-width marks (kept in the raw text and the archived original).
    static func stripMarks(_ s: String) -> String {
        // Every mark is encoded with a lead byte of 0xE2, 0xEF or 0xC2: plain text skips the work.
        guard s.utf8.contains(where: { $0 == 0xE2 || $0 == 0xEF || $0 == 0xC2 }),
              s.unicodeScalars.contains(where: isMark) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars where !isMark(u) { out.append(u) }
        return String(out)
    }

    /// Substring search on UTF-8 bytes (Foundation's `contains` bridges through NSString on Linux).
    static func containsBytes(_ haystack: String, _ needle: String) -> Bool {
        let h = Array(haystack.utf8), n = Array(needle.utf8)
        guard !n.isEmpty, h.count >= n.count else { return n.isEmpty }
        outer: for i in 0...(h.count - n.count) where h[i] == n[0] {
            for j in 1..<n.count where h[i + j] != n[j] { continue outer }
            return true
        }
        return false
    }

    /// Trims spaces, tabs and no-break spaces at both ends (without Foundation's slow bridging).
    static func trim(_ s: String) -> String {
        let scalars = s.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, isSpace(scalars[start]) { start = scalars.index(after: start) }
        while end > start, isSpace(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        if start == scalars.startIndex, end == scalars.endIndex { return s }
        return String(scalars[start..<end])
    }

    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x20, 0x09, 0x00A0, 0x202F, 0x2007, 0x2009: return true
        default: return false
        }
    }

    static func isMark(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x200B...0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF, 0x00AD: return true
        default: return false
        }
    }

    /// Marks removed, NBSP-like spaces folded to a space, trimmed, `~` non-contact prefix dropped.
    static func cleanSender(_ s: String) -> (name: String, nonContact: Bool) {
        var t = stripMarks(s)
        if t.utf8.contains(where: { $0 >= 0x80 }) {
            t = String(String.UnicodeScalarView(t.unicodeScalars.map { isSpace($0) ? " " : $0 }))
        }
        t = trim(t)
        var nonContact = false
        if t.utf8.first == UInt8(ascii: "~") {
            nonContact = true
            t = trim(String(t.dropFirst()))
        }
        return (t, nonContact)
    }
}
