/// A slot or literal in a message template (`"Lane {lane} closed"`), parsed once.
enum Piece: Sendable {
    case text(String)
    case port, lane, n, wait, hhmm, plate, name, unit, veh, emoji, day, date, ref
}

/// The texts of one export language: system notices, markers and the message templates.
///
/// System-notice templates use `{A}` (actor), `{B}` (member) and `{T}` (group title); they are
/// rare, so they are filled with plain string replacement. Message templates are parsed into
/// `Piece`s once so that the hot loop only appends.
struct Vocabulary: Sendable {
    var encryption: String
    var encryptionAndroidSuffix: String
    var createdYou: String
    var createdOther: String
    var addedByYou: String
    var addedYou: String
    var addedOther: String
    var descriptionYou: String
    var descriptionOther: String
    var deletedOther: String
    var deletedYou: String
    var mediaOmittedAndroid: String
    var omittedIOS: [String]
    var attachedWord: String
    var fileAttached: String
    var edited: String
    var pageOne: String
    var pageMany: String
    var missedCall: String
    var weekdays: [String]
    var docTitles: [String]
    var captions: [String]
    var hasLocation: Bool
    var templates: [[Piece]]
    var replies: [[Piece]]
    var multiline: [[Piece]]

    static func forLanguage(_ code: String) -> Vocabulary? {
        switch code {
        case "en": return english
        case "es": return spanish
        case "pt": return portuguese
        case "fr": return french
        case "de": return german
        case "it": return italian
        default: return nil
        }
    }

    /// Splits `"a {slot} b"` into pieces; unknown slots stay literal.
    static func parse(_ template: String) -> [Piece] {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            literal += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let slotName = rest[rest.index(after: open)..<close]
            let slot: Piece?
            switch slotName {
            case "port": slot = .port
            case "lane": slot = .lane
            case "n": slot = .n
            case "wait": slot = .wait
            case "hhmm": slot = .hhmm
            case "plate": slot = .plate
            case "name": slot = .name
            case "unit": slot = .unit
            case "veh": slot = .veh
            case "emoji": slot = .emoji
            case "day": slot = .day
            case "date": slot = .date
            case "ref": slot = .ref
            default: slot = nil
            }
            if let slot {
                if !literal.isEmpty { pieces.append(.text(literal)); literal = "" }
                pieces.append(slot)
            } else {
                literal += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.text(literal)) }
        return pieces
    }

    static func parseAll(_ templates: [String]) -> [[Piece]] { templates.map(parse) }

    // MARK: shared slot values

    static let ports = [
        "San Ysidro", "Otay Mesa", "Calexico West", "Tecate", "Nogales Mariposa", "DeConcini", "BOTA", "Ysleta",
        "Paso del Norte", "Laredo Bridge 2", "World Trade Bridge", "Hidalgo", "Pharr", "Brownsville",
    ]
    static let units = ["K9", "SRT", "A-TCET", "the ZBV crew", "the rail team", "the bike unit", "the canine team"]
    static let emoji = ["👍", "✅", "🚗", "🛂", "🙏", "😂", "⚠️", "🚨", "💪", "👀", "☕", "🌮"]
    static let plateStates = ["CA", "TX", "AZ", "NM", "BC", "SON", "CHIH", "TAMPS"]
    static let fallbackNames = [
        "Ana", "Luis", "Karen", "Tom", "Priya", "José", "Marcus", "Lucía", "Derek", "João", "Fernanda", "Kevin",
        "Rosa", "Brian", "Thiago",
    ]
    /// People shared as contact cards or added to groups later.
    static let contactNames = [
        "Ana Gutiérrez", "Luis Herrera", "Karen Walsh", "Tom Becker", "Priya Natarajan", "José Ramírez",
        "Marcus Reed", "Lucía Fernández", "Derek Stone", "João Silva", "Fernanda Costa", "Kevin O'Brien",
        "Rosa Medina", "Brian Nguyen", "Thiago Almeida", "Officer Daniels", "Sgt. Patel",
    ]
    /// Coordinates near ports of entry (lat, lon) for shared locations.
    static let places: [(String, String)] = [
        ("32.5422", "-117.0297"), ("32.5499", "-116.9383"), ("32.6653", "-115.4988"), ("31.3353", "-110.9434"),
        ("31.7644", "-106.4517"), ("27.5997", "-99.5336"), ("26.0966", "-98.2711"), ("25.9017", "-97.4975"),
    ]

    // MARK: English

    static let english = Vocabulary(
        encryption: "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.",
        encryptionAndroidSuffix: " Tap to learn more.",
        createdYou: "You created group \"{T}\"",
        createdOther: "{A} created group \"{T}\"",
        addedByYou: "You added {B}",
        addedYou: "{A} added you",
        addedOther: "{A} added {B}",
        descriptionYou: "You changed the group description",
        descriptionOther: "{A} changed the group description",
        deletedOther: "This message was deleted",
        deletedYou: "You deleted this message",
        mediaOmittedAndroid: "<Media omitted>",
        omittedIOS: ["image omitted", "image omitted", "video omitted", "audio omitted", "sticker omitted", "GIF omitted"],
        attachedWord: "attached",
        fileAttached: "file attached",
        edited: "<This message was edited>",
        pageOne: "page",
        pageMany: "pages",
        missedCall: "Missed voice call",
        weekdays: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        docTitles: [
            "Shift Roster", "Weekly Queue Stats", "Vehicle Inspection Checklist", "Ops Plan", "Training Schedule",
            "Port Directive", "Fleet Maintenance Log", "Secondary Referrals Summary",
        ],
        captions: [
            "Lane {lane} this morning", "damage on unit {veh}", "queue right now", "this is the one", "FYI",
            "cargo lot at {hhmm}", "see the rear bumper", "board in the office",
        ],
        hasLocation: true,
        templates: parseAll([
            "Wait time at {port} is {wait} min on general lanes, SENTRI about {n} min",
            "Can someone cover primary lane {lane} from {hhmm}? I have a meeting with the port director",
            "Vehicle {plate} sent to secondary, K9 alerted on the rear quarter panel",
            "Heads up: TECS is down at {port}, running manual queries until further notice",
            "Meeting moved to {hhmm} in the conference room, bring the weekly stats",
            "{name}, did you finish the vehicle checks for unit {veh}?",
            "Unit {veh} is due for maintenance, brakes making noise",
            "Pedestrian queue backing up past the turnstiles, need {n} more officers",
            "Who has the keys to the evidence locker?",
            "Reminder: use of force training {day} at {hhmm}",
            "Bus inspection done, {n} passengers, nothing to report",
            "Cargo lanes reopened at {hhmm}",
            "Mexican counterparts asked for a call at {hhmm} re: the joint operation",
            "Port director wants the numbers by EOD",
            "FYI {port} had {n} referrals this morning",
            "Can you send me the roster for next week?",
            "Primary is at {wait} min, opening lane {lane}",
            "Shift change at {hhmm}, relief is on the way",
            "Seizure at lane {lane}, case {ref}. Paperwork in progress",
            "Anyone seen the new vest sizes? Supply says they sent them",
            "Running late, traffic on the 5 {emoji}",
            "Negative, still waiting on the appointments list",
            "Lunch relief for lane {lane} please",
            "All good here {emoji}",
            "Please don't post PII in this chat, use email",
            "Call me when you can",
            "Supervisor on duty today is {name}",
            "{n} vehicles in the queue past the bridge midpoint",
            "Secondary is full, holding {n} vehicles in the lot",
            "Port runner {plate} again, third time this week",
            "Northbound rail inspection at {hhmm}, need one volunteer",
            "{unit} is requesting backup at lane {lane}",
            "Radio check on channel {n}",
            "Did anyone log the vehicle check for {veh}? The sheet is blank",
            "Gas card for unit {veh} is declined again",
            "Thanks {name}, appreciate it",
            "Is the {hhmm} briefing still on?",
            "{port} queue is down to {wait} min",
            "Need two officers at the SENTRI booth at {hhmm}",
            "Good morning team, lanes 1-{n} open, no issues overnight",
            "Sending the updated plan now",
            "We'll need {unit} for the operation {day}",
            "Wait times are climbing, {wait} min at {port} {emoji}",
            "Can you confirm the count for the {hhmm} handover?",
            "Heading back to the office",
        ]),
        replies: parseAll([
            "Copy that", "copy", "10-4", "Roger", "👍", "Ok", "Got it", "Thanks", "Will do", "On it", "Affirmative",
            "Negative", "👍👍", "Copy that {emoji}", "ack", "Sounds good", "Ok thanks", "On my way", "Stand by",
            "Yes", "No", "Thank you!", "Copy, thanks {name}", "Omw", "😂", "🙏", "Done",
        ]),
        multiline: parseAll([
            "Shift handover {hhmm}:\n- Lanes 1-{n} open\n- {n} referrals pending in secondary\n- {unit} on primary until {hhmm}",
            "Agenda for tomorrow:\n1. Queue stats\n2. Vehicle maintenance schedule\n3. Joint operation with the {port} team",
            "Roster update\n{name} - days\n{name} - swings\n{name} - mids",
            "Reminder:\n{date} training at {hhmm}, bring your credentials",
            "Per the port director:\n\nno personal phones on primary.\nThanks",
            "Vehicle checks done\nunit {veh} ok\nunit {veh} low tire pressure\nunit {veh} out of service",
            "Ops plan for {day}:\nbriefing {hhmm}\nstaging at {port}\ndebrief after",
        ])
    )

    // MARK: Spanish

    static let spanish = Vocabulary(
        encryption: "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat, ni siquiera WhatsApp, puede leerlos ni escucharlos.",
        encryptionAndroidSuffix: " Toca para obtener más información.",
        createdYou: "Creaste el grupo \"{T}\"",
        createdOther: "{A} creó el grupo \"{T}\"",
        addedByYou: "Añadiste a {B}",
        addedYou: "{A} te añadió",
        addedOther: "{A} añadió a {B}",
        descriptionYou: "Cambiaste la descripción del grupo",
        descriptionOther: "{A} cambió la descripción del grupo",
        deletedOther: "Se eliminó este mensaje",
        deletedYou: "Eliminaste este mensaje",
        mediaOmittedAndroid: "<Multimedia omitido>",
        omittedIOS: ["imagen omitida", "imagen omitida", "video omitido", "audio omitido", "sticker omitido"],
        attachedWord: "adjunto",
        fileAttached: "archivo adjunto",
        edited: "<Se editó este mensaje.>",
        pageOne: "página",
        pageMany: "páginas",
        missedCall: "Llamada perdida",
        weekdays: ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
        docTitles: ["Plan de Operación", "Rol de Turnos", "Informe Semanal", "Lista de Verificación"],
        captions: ["carril {lane} ahora", "la fila en este momento", "este es el vehículo", "para su revisión"],
        hasLocation: false,
        templates: parseAll([
            "La fila en {port} está en {wait} minutos",
            "Reunión a las {hhmm} para revisar la operación conjunta",
            "El vehículo {plate} pasó a revisión secundaria",
            "¿Quién cubre el carril {lane} a partir de las {hhmm}?",
            "Confirmo la operación para el {day} a las {hhmm}",
            "Gracias, compañero {emoji}",
            "Nuestro equipo llega al puente a las {hhmm}",
            "Hay {n} vehículos en espera en el carril de carga",
            "La revisión de la unidad {veh} quedó pendiente",
            "Buenos días a todos, sin novedades en el turno de noche",
            "¿Pueden enviar la lista de agentes para la operación?",
            "Se cayó el sistema en la garita, aviso cuando regrese",
            "Perfecto, nos vemos allá",
            "Atención: cambio de turno a las {hhmm}",
            "El camión con placas {plate} no se detuvo en la revisión",
            "Mañana hay capacitación, lleguen a las {hhmm} por favor",
            "¿Alguien tiene el número del enlace de Tijuana?",
            "Operación coordinada con {name} para el {day}. Detalles por correo.",
            "Excelente trabajo hoy, equipo 💪",
            "{name}, ¿ya terminaste la revisión de la unidad {veh}?",
            "La espera en {port} subió a {wait} minutos {emoji}",
            "Necesitamos {n} agentes más en el cruce peatonal",
            "Expediente {ref} enviado a la fiscalía",
            "Ya salimos de la garita, llegamos en {n} minutos",
        ]),
        replies: parseAll([
            "Copiado", "Entendido", "Enterado", "Sí, recibido", "👍", "Ok", "Gracias", "De acuerdo", "Va",
            "Ya estoy en camino", "Claro que sí", "Listo {emoji}", "Sale", "Perfecto, gracias {name}",
        ]),
        multiline: parseAll([
            "Reporte del turno:\n- {n} revisiones secundarias\n- carril {lane} cerrado por mantenimiento\n- sin incidentes",
            "Plan para el {day}:\nreunión {hhmm}\nsalida hacia {port}\nrevisión de vehículos después",
            "Recordatorio:\n{date} operación conjunta a las {hhmm}",
        ])
    )

    // MARK: Portuguese

    static let portuguese = Vocabulary(
        encryption: "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam somente entre você e os participantes desta conversa. Nem mesmo o WhatsApp pode ler ou ouvi-las.",
        encryptionAndroidSuffix: " Toque para saber mais.",
        createdYou: "Você criou o grupo \"{T}\"",
        createdOther: "{A} criou o grupo \"{T}\"",
        addedByYou: "Você adicionou {B}",
        addedYou: "{A} adicionou você",
        addedOther: "{A} adicionou {B}",
        descriptionYou: "Você mudou a descrição do grupo",
        descriptionOther: "{A} mudou a descrição do grupo",
        deletedOther: "Esta mensagem foi apagada",
        deletedYou: "Você apagou esta mensagem",
        mediaOmittedAndroid: "<Mídia oculta>",
        omittedIOS: ["imagem ocultada", "imagem ocultada", "vídeo ocultado", "áudio ocultado", "figurinha omitida"],
        attachedWord: "anexado",
        fileAttached: "arquivo anexado",
        edited: "<Mensagem editada>",
        pageOne: "página",
        pageMany: "páginas",
        missedCall: "Chamada de voz perdida",
        weekdays: ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"],
        docTitles: ["Relatório de Revisão", "Escala de Plantão", "Plano de Operação", "Lista de Passageiros"],
        captions: ["fila agora", "terminal 3 às {hhmm}", "esse é o volume", "para revisão"],
        hasLocation: false,
        templates: parseAll([
            "A revisão do veículo {plate} foi concluída",
            "Reunião às {hhmm} na sala de operações",
            "Chegamos ao aeroporto às {hhmm}, fila da imigração com {wait} minutos",
            "Alguém pode confirmar a operação de {day}?",
            "Bom dia a todos! Sem novidades no plantão da noite",
            "Enviei o relatório por e-mail, favor verificar",
            "Tudo certo por aqui {emoji}",
            "Precisamos de mais {n} agentes no terminal 3",
            "Atenção: mudança de turno às {hhmm}",
            "A inspeção da bagagem está em andamento",
            "Vou verificar e te retorno",
            "Obrigado pela ajuda hoje, excelente trabalho",
            "Ligação com a equipe de {port} às {hhmm}",
            "Não consigo acessar o sistema, mais alguém com problema?",
            "{name}, a revisão da operação ficou para {day}",
            "Processo {ref} encaminhado à Polícia Federal",
            "Voo atrasado, previsão de chegada às {hhmm}",
            "Foram {n} passageiros encaminhados para entrevista",
            "Confirmado, estaremos lá às {hhmm} {emoji}",
        ]),
        replies: parseAll([
            "Copiado", "Entendido, obrigado", "Ok", "👍", "Certo", "Combinado", "Obrigado!", "Beleza {emoji}",
            "Pode deixar", "Valeu, {name}", "Sim", "Já estou a caminho",
        ]),
        multiline: parseAll([
            "Resumo do plantão:\n- {n} passageiros encaminhados para revisão\n- sistema instável das {hhmm} às {hhmm}\n- nenhuma ocorrência grave",
            "Pauta da reunião:\n1. revisão da operação\n2. escala de {day}\n3. relatório para a sede",
        ])
    )

    // MARK: French, German, Italian (markers complete, message text brief)

    static let french = Vocabulary(
        encryption: "Les messages et les appels sont chiffrés de bout en bout. Aucun tiers, pas même WhatsApp, ne peut les lire ou les écouter.",
        encryptionAndroidSuffix: " Appuyez pour en savoir plus.",
        createdYou: "Vous avez créé le groupe \"{T}\"",
        createdOther: "{A} a créé le groupe \"{T}\"",
        addedByYou: "Vous avez ajouté {B}",
        addedYou: "{A} vous a ajouté",
        addedOther: "{A} a ajouté {B}",
        descriptionYou: "Vous avez modifié la description du groupe",
        descriptionOther: "{A} a modifié la description du groupe",
        deletedOther: "Ce message a été supprimé",
        deletedYou: "Vous avez supprimé ce message",
        mediaOmittedAndroid: "<Médias omis>",
        omittedIOS: ["image absente", "vidéo absente", "audio omis", "autocollant omis"],
        attachedWord: "pièce jointe",
        fileAttached: "fichier joint",
        edited: "<Message modifié>",
        pageOne: "page",
        pageMany: "pages",
        missedCall: "Appel vocal manqué",
        weekdays: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        docTitles: ["Plan d'opération", "Planning des équipes", "Rapport hebdomadaire"],
        captions: ["la file maintenant", "voie {lane}"],
        hasLocation: false,
        templates: parseAll([
            "Réunion à {hhmm} pour préparer l'opération conjointe",
            "Le véhicule {plate} est en contrôle secondaire",
            "Attente de {wait} minutes à {port}",
            "Qui peut couvrir la voie {lane} à partir de {hhmm} ?",
            "Rien à signaler cette nuit {emoji}",
            "Merci {name}, bien reçu",
            "La vérification du véhicule {veh} est terminée",
        ]),
        replies: parseAll(["Reçu", "Bien reçu", "OK", "👍", "Merci", "D'accord", "J'arrive"]),
        multiline: parseAll(["Relève de {hhmm} :\n- voies 1-{n} ouvertes\n- {n} contrôles en attente"])
    )

    static let german = Vocabulary(
        encryption: "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie lesen oder anhören, nicht einmal WhatsApp.",
        encryptionAndroidSuffix: " Tippe, um mehr zu erfahren.",
        createdYou: "Du hast die Gruppe \"{T}\" erstellt",
        createdOther: "{A} hat die Gruppe \"{T}\" erstellt",
        addedByYou: "Du hast {B} hinzugefügt",
        addedYou: "{A} hat dich hinzugefügt",
        addedOther: "{A} hat {B} hinzugefügt",
        descriptionYou: "Du hast die Gruppenbeschreibung geändert",
        descriptionOther: "{A} hat die Gruppenbeschreibung geändert",
        deletedOther: "Diese Nachricht wurde gelöscht",
        deletedYou: "Du hast diese Nachricht gelöscht",
        mediaOmittedAndroid: "<Medien ausgeschlossen>",
        omittedIOS: ["Bild weggelassen", "Video weggelassen", "Audio weggelassen", "Sticker weggelassen"],
        attachedWord: "Anhang",
        fileAttached: "Datei angehängt",
        edited: "<Nachricht bearbeitet>",
        pageOne: "Seite",
        pageMany: "Seiten",
        missedCall: "Verpasster Sprachanruf",
        weekdays: ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
        docTitles: ["Einsatzplan", "Dienstplan", "Wochenbericht"],
        captions: ["Spur {lane} gerade", "Schlange jetzt"],
        hasLocation: false,
        templates: parseAll([
            "Besprechung um {hhmm} wegen der gemeinsamen Operation",
            "Fahrzeug {plate} ist in der Zweitkontrolle",
            "Wartezeit in {port} liegt bei {wait} Minuten",
            "Wer übernimmt Spur {lane} ab {hhmm}?",
            "Keine besonderen Vorkommnisse heute Nacht {emoji}",
            "Danke {name}, erhalten",
            "Fahrzeugprüfung für {veh} ist erledigt",
        ]),
        replies: parseAll(["Verstanden", "Alles klar", "OK", "👍", "Danke", "Bin unterwegs"]),
        multiline: parseAll(["Übergabe {hhmm}:\n- Spuren 1-{n} offen\n- {n} Kontrollen offen"])
    )

    static let italian = Vocabulary(
        encryption: "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa chat, nemmeno WhatsApp, può leggerli o ascoltarli.",
        encryptionAndroidSuffix: " Tocca per saperne di più.",
        createdYou: "Hai creato il gruppo \"{T}\"",
        createdOther: "{A} ha creato il gruppo \"{T}\"",
        addedByYou: "Hai aggiunto {B}",
        addedYou: "{A} ti ha aggiunto",
        addedOther: "{A} ha aggiunto {B}",
        descriptionYou: "Hai modificato la descrizione del gruppo",
        descriptionOther: "{A} ha modificato la descrizione del gruppo",
        deletedOther: "Questo messaggio è stato eliminato",
        deletedYou: "Hai eliminato questo messaggio",
        mediaOmittedAndroid: "<Media omessi>",
        omittedIOS: ["immagine omessa", "video omesso", "audio omesso", "sticker omesso"],
        attachedWord: "allegato",
        fileAttached: "file allegato",
        edited: "<Messaggio modificato>",
        pageOne: "pagina",
        pageMany: "pagine",
        missedCall: "Chiamata vocale persa",
        weekdays: ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"],
        docTitles: ["Piano operativo", "Turni di servizio", "Rapporto settimanale"],
        captions: ["corsia {lane} adesso", "la coda adesso"],
        hasLocation: false,
        templates: parseAll([
            "Riunione alle {hhmm} per l'operazione congiunta",
            "Il veicolo {plate} è al controllo secondario",
            "Attesa di {wait} minuti a {port}",
            "Chi copre la corsia {lane} dalle {hhmm}?",
            "Nessuna novità stanotte {emoji}",
            "Grazie {name}, ricevuto",
            "Controllo del veicolo {veh} completato",
        ]),
        replies: parseAll(["Ricevuto", "Va bene", "OK", "👍", "Grazie", "Arrivo"]),
        multiline: parseAll(["Cambio turno {hhmm}:\n- corsie 1-{n} aperte\n- {n} controlli in sospeso"])
    )
}
