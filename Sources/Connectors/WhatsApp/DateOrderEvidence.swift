import RecordkeeperCore

/// Accumulates, in one streaming pass over a file's headers, the evidence that decides its date
/// order (FORMATS.md §1.3): a field over 12 decides; otherwise, within one year, the field that
/// falls when the other rises is the day; otherwise the field that changes more often is the day;
/// otherwise a weak hint from the clock (12-hour → month first, 24-hour → day first).
struct DateOrderEvidence {
    private(set) var headers = 0
    private var firstOver12: (line: Int, text: String)?
    private var secondOver12: (line: Int, text: String)?
    private var firstOver12Count = 0
    private var secondOver12Count = 0
    private var yearFirst = 0
    private var yearMiddle = 0
    private var middleOver12 = 0
    private var lastOver12 = 0
    private var dayFirstVotes = 0
    private var monthFirstVotes = 0
    private var firstChanges = 0
    private var secondChanges = 0
    private var twelveHour = 0
    private var previous: WhatsAppHeader?

    mutating func add(_ h: WhatsAppHeader, line: Int) {
        headers += 1
        if h.meridiem != nil { twelveHour += 1 }
        if h.aDigits >= 3 {
            yearFirst += 1
            if h.b > 12 { middleOver12 += 1 }
            if h.c > 12 { lastOver12 += 1 }
            previous = h
            return
        }
        if h.bDigits >= 3 {
            yearMiddle += 1
            if h.a > 12 { firstOver12Count += 1 }
            previous = h
            return
        }
        let text = "\(h.a)/\(h.b)/\(h.c)"
        if h.a > 12 {
            firstOver12Count += 1
            if firstOver12 == nil { firstOver12 = (line, text) }
        }
        if h.b > 12 {
            secondOver12Count += 1
            if secondOver12 == nil { secondOver12 = (line, text) }
        }
        if let p = previous, p.aDigits < 3, p.bDigits < 3, p.c == h.c {
            if h.a < p.a, h.b > p.b { dayFirstVotes += 1 }
            if h.b < p.b, h.a > p.a { monthFirstVotes += 1 }
            if h.a != p.a { firstChanges += 1 }
            if h.b != p.b { secondChanges += 1 }
        }
        previous = h
    }

    func decide(override: DateOrder?) -> DateOrderDecision {
        if let override {
            return DateOrderDecision(order: override, certain: true, basis: "override",
                                     evidence: ["date order given by the user (--date-order \(override.rawValue))"])
        }
        if headers == 0 {
            return DateOrderDecision(order: .dmy, certain: false, basis: "default", evidence: ["no timestamp headers found"])
        }
        if yearFirst > 0, yearFirst >= headers / 2 {
            if middleOver12 > 0, lastOver12 == 0 {
                return DateOrderDecision(order: .ydm, certain: true, basis: "evidence",
                                         evidence: ["year written first; middle field exceeds 12 in \(middleOver12) header(s)"])
            }
            return DateOrderDecision(order: .ymd, certain: true, basis: "evidence",
                                     evidence: ["year written first (4 digits) in \(yearFirst) of \(headers) headers: year-month-day"])
        }
        if yearMiddle > 0, yearMiddle >= headers / 2 {
            let order: DateOrder = firstOver12Count > 0 ? .dym : .myd
            return DateOrderDecision(order: order, certain: true, basis: "evidence",
                                     evidence: ["year written in the middle in \(yearMiddle) of \(headers) headers"])
        }
        if firstOver12Count > 0, secondOver12Count == 0, let ex = firstOver12 {
            return DateOrderDecision(order: .dmy, certain: true, basis: "evidence",
                                     evidence: ["first field exceeds 12 in \(firstOver12Count) header(s), e.g. line \(ex.line) (\(ex.text)): day first"])
        }
        if secondOver12Count > 0, firstOver12Count == 0, let ex = secondOver12 {
            return DateOrderDecision(order: .mdy, certain: true, basis: "evidence",
                                     evidence: ["second field exceeds 12 in \(secondOver12Count) header(s), e.g. line \(ex.line) (\(ex.text)): month first"])
        }
        if firstOver12Count > 0, secondOver12Count > 0 {
            let order: DateOrder = firstOver12Count >= secondOver12Count ? .dmy : .mdy
            return DateOrderDecision(order: order, certain: false, basis: "evidence",
                                     evidence: ["conflicting evidence: first field exceeds 12 in \(firstOver12Count) header(s), second in \(secondOver12Count); the majority was taken and headers that are invalid under it are reported as defects"])
        }
        if dayFirstVotes > 0 || monthFirstVotes > 0 {
            let order: DateOrder = dayFirstVotes >= monthFirstVotes ? .dmy : .mdy
            let certain = dayFirstVotes == 0 || monthFirstVotes == 0
            return DateOrderDecision(order: order, certain: certain, basis: "evidence",
                                     evidence: ["within a year the \(order == .dmy ? "first" : "second") field falls while the other rises (\(max(dayFirstVotes, monthFirstVotes)) time(s), \(min(dayFirstVotes, monthFirstVotes)) against): that field is the day"])
        }
        if firstChanges != secondChanges {
            let order: DateOrder = firstChanges > secondChanges ? .dmy : .mdy
            return DateOrderDecision(order: order, certain: false, basis: "evidence",
                                     evidence: ["no field exceeds 12; the \(order == .dmy ? "first" : "second") field changes more often (\(max(firstChanges, secondChanges)) vs \(min(firstChanges, secondChanges))), so it is taken as the day (weak evidence: check, or pass --date-order)"])
        }
        let order: DateOrder = twelveHour * 2 > headers ? .mdy : .dmy
        return DateOrderDecision(order: order, certain: false, basis: "default",
                                 evidence: ["the dates do not reveal the order; \(order == .mdy ? "12-hour clock suggests a US-style month-first" : "24-hour clock suggests day-first") export (a guess: pass --date-order to be sure)"])
    }
}
