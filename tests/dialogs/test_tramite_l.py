"""L) Visita de soporte técnico, every branch, through the console channel (today: Saturday
2026-11-28, so "el martes" is 2026-12-01 and "lunes o miércoles" 2026-11-30 and 2026-12-02)."""
from __future__ import annotations

IMPORTADORA = "+59170000001"  # internet 300104 "Fibra Empresa 100 Mbps"
TIQUIPAYA = "+59171722002"  # multipack 300201 "Multipack Empresarial Plus": no speed in the plan
CLINICA = "+59170111004"  # internet 300401 "Fibra Empresa 200 Mbps", open order OT-2026-0401
HOTEL = "+59171234005"  # tv_cable and a line: no internet


def rules_of(client, case) -> list[str]:
    return [e.detail["rule"] for e in client.events(case) if e.kind == "rule"]


def test_everything_in_one_message_needs_no_question(chat):
    client = chat(IMPORTADORA)
    reply = client.say("necesito una visita técnica, el internet está lento, tenemos 20 dispositivos "
                       "y el plan es de 100 Mbps, puede ser el martes en la mañana")
    case = client.last_case()
    assert case.number in reply and "Analista Técnico Empresas" in reply
    assert "no tiene costo" in reply
    assert "Lentitud" in reply and "20" in reply and "100 Mbps" in reply
    assert "«puede ser el martes en la mañana»" in reply and "martes 1 de diciembre de 2026" in reply
    assert "a distancia" in reply and "visita" in reply
    assert case.tramite == "L" and case.status == "en_proceso"
    assert case.current_role == "analista_tecnico" and case.assignee_id is None
    assert case.quoted_costs == [] and case.requirements == []
    data = case.data
    assert (data["product"], data["problem"], data["devices"], data["speed_mbps"]) == ("300104", "lento", 20, 100)
    assert data["speed_source"] == "cliente" and data["description"] == "el internet está lento"
    assert data["availability"]["as_given"] == "puede ser el martes en la mañana"
    assert data["availability"]["dates"] == ["2026-12-01"] and data["availability"]["parts"] == ["manana"]
    assert "remote_diagnosis_first" in rules_of(client, case)


def test_turn_by_turn_asks_each_question_and_the_speed_when_the_plan_does_not_say(chat):
    client = chat(TIQUIPAYA)
    problem = client.say("quiero que venga un técnico")
    assert "1. Sin servicio" in problem and "Multipack 4316100" in problem
    assert "dispositivos" in client.say("2")
    assert "velocidad" in client.say("unos 30")
    assert "días" in client.say("no sé")
    reply = client.say("lunes o miércoles de 9 a 12")
    assert "lunes 30 de noviembre de 2026" in reply and "miércoles 2 de diciembre de 2026" in reply
    assert "de 09:00 a 12:00" in reply
    data = client.last_case().data
    assert data["problem"] == "cortes" and data["devices"] == 30 and data["speed_mbps"] == "no_sabe"
    assert data["availability"] == {"as_given": "lunes o miércoles de 9 a 12",
                                    "dates": ["2026-11-30", "2026-12-02"], "parts": [],
                                    "hours": ["09:00-12:00"], "flexible": False}


def test_speed_from_the_plan_open_damage_order_logged_and_past_days_not_taken(chat):
    client = chat(CLINICA)
    client.say("visita técnica")
    devices = client.say("desde el lunes no tenemos internet")  # when it started, not when to come
    assert "dispositivos" in devices
    availability = client.say("15 computadoras")  # 200 Mbps is in the plan: no speed question
    assert "días y horarios" in availability
    reply = client.say("mañana a las 10")
    assert "domingo 29 de noviembre de 2026" in reply and "a las 10:00" in reply
    assert "200 Mbps (según su plan)" in reply
    case = client.last_case()
    assert case.data["problem"] == "sin_servicio" and case.data["speed_source"] == "plan"
    assert case.data["open_work_orders"] == ["OT-2026-0401"]
    rules = rules_of(client, case)
    assert "speed_from_plan" in rules and "open_damage_order" in rules


def test_flexible_availability_is_recorded_as_given_without_dates(chat):
    client = chat(IMPORTADORA)
    client.say("necesitamos soporte técnico, se corta el internet a cada rato, 8 equipos")
    reply = client.say("cualquier día en horario de oficina")
    availability = client.last_case().data["availability"]
    assert availability["as_given"] == "cualquier día en horario de oficina"
    assert availability["dates"] == [] and availability["flexible"] is True
    assert "«cualquier día en horario de oficina»" in reply


def test_client_without_internet_is_told_so(chat):
    client = chat(HOTEL)
    reply = client.say("necesito una visita técnica")
    assert "No encontramos productos" in reply
    assert client.cases() == []


def test_bad_answers_get_a_hint_twice_then_a_person_is_offered(chat):
    client = chat(IMPORTADORA)
    client.say("visita técnica")
    client.say("no hay internet")
    first = client.say("muchos")
    assert "Disculpe" in first and "dispositivos" in first
    assert "Disculpe" in client.say("bastantes")
    offer = client.say("???")
    assert "ejecutivo" in offer and "sí" in offer
    assert "ejecutivo" in client.say("sí")
    assert client.cases() == []
